import type { AggregateNames } from './names.js';
import { commandRoutes, commandRoutesTest, commandsIndex } from './templates/commands.js';
import { domainModule, domainTest } from './templates/domain.js';
import { moduleValue } from './templates/module.js';
import { projectionModule, projectionsIndex, projectionTest } from './templates/projections.js';
import {
  queryRoutes,
  queryRoutesTest,
  readApiIndex,
  reader,
  readYourWritesTest,
  views,
} from './templates/read-api.js';

export type GeneratedFile = {
  /** Repository-relative, with "/" separators. */
  path: string;
  /** One line on what the file is for, for the scaffolder's report. */
  purpose: string;
  content: string;
};

/** Every file the scaffolder writes for an aggregate: one folder per layer, and its module value in app/. */
export const generatedFiles = (n: AggregateNames): GeneratedFile[] => {
  const domain = `domain/${n.kebabPlural}`;
  const commands = `commands/${n.kebabPlural}`;
  const projections = `projections/${n.kebabPlural}`;
  const readApi = `read-api/${n.kebabPlural}`;
  return [
    {
      path: `${domain}/${n.kebab}.ts`,
      purpose: 'zod commands and events, the decider (the rules), the Aggregate',
      content: domainModule(n),
    },
    { path: `${domain}/${n.kebab}.test.ts`, purpose: 'the rules as given/when/then', content: domainTest(n) },
    {
      path: `${commands}/${n.kebab}-routes.ts`,
      purpose: `POST /${n.kebabPlural}, /${n.kebabPlural}/:id/rename, /${n.kebabPlural}/:id/archive`,
      content: commandRoutes(n),
    },
    {
      path: `${commands}/index.ts`,
      purpose: 'the write side of the module: its command routes',
      content: commandsIndex(n),
    },
    {
      path: `${commands}/${n.kebab}-routes.test.ts`,
      purpose: 'the write routes through inject: rules, bad input, idempotency, concurrency',
      content: commandRoutesTest(n),
    },
    {
      path: `${projections}/${n.kebabPlural}-projection.ts`,
      purpose: `the ${n.snakePlural} read model (guarded upserts) and its cache entries`,
      content: projectionModule(n),
    },
    {
      path: `${projections}/index.ts`,
      purpose: 'the read models of the module',
      content: projectionsIndex(n),
    },
    {
      path: `${projections}/${n.kebabPlural}-projection.test.ts`,
      purpose: 'given events, then documents; replays change nothing',
      content: projectionTest(n),
    },
    {
      path: `${readApi}/${n.kebab}-views.ts`,
      purpose: 'the view the read API answers with',
      content: views(n),
    },
    {
      path: `${readApi}/${n.kebab}-reader.ts`,
      purpose: 'one document, cache first (or fresh after x-min-position)',
      content: reader(n),
    },
    {
      path: `${readApi}/${n.kebab}-query-routes.ts`,
      purpose: `GET /${n.kebabPlural}/:id`,
      content: queryRoutes(n),
    },
    {
      path: `${readApi}/index.ts`,
      purpose: 'the read side of the module: its query routes',
      content: readApiIndex(n),
    },
    {
      path: `${readApi}/${n.kebab}-query-routes.test.ts`,
      purpose: 'the read route: cache, 404, bad input, x-min-position',
      content: queryRoutesTest(n),
    },
    {
      path: `${readApi}/${n.kebab}-read-your-writes.test.ts`,
      purpose: 'end to end: write API → projectors → read API',
      content: readYourWritesTest(n),
    },
    {
      path: `app/modules/${n.kebabPlural}.ts`,
      purpose: 'the module: its command routes, projections, query routes and API tags, in one value',
      content: moduleValue(n),
    },
  ];
};
