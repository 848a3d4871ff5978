import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../infra/config.js';
import { appConfigSchema, loadAppConfig } from './config.js';
import { type AnyModule, defineModule, projectionsOf } from './module.js';
import { modules as appModules } from './modules.js';
import { fixtureModule } from './testing/fixture-module.js';

/** The app's modules, typed as any list (app/modules.ts may list none). */
const modules: readonly AnyModule[] = appModules;

describe("the app's configuration", () => {
  // A module with settings of its own: the engines' fixture module (app/testing/fixture-module.ts).
  const withFixture = [fixtureModule];

  it("reads the modules' settings with the base ones, through one schema", () => {
    const config = loadAppConfig({ PORT: '8080', FIXTURE_JOB_CONCURRENCY: '7' }, withFixture);
    expect(config).toMatchObject({ PORT: 8080, FIXTURE_JOB_CONCURRENCY: 7, FIXTURE_JOB_DEADLINE_MS: 60_000 });
  });

  it("refuses a bad value of a module's setting, naming the variable", () => {
    expect(() => loadAppConfig({ FIXTURE_JOB_DEADLINE_MS: 'soon' }, withFixture)).toThrow(ConfigError);
    expect(() => loadAppConfig({ FIXTURE_JOB_DEADLINE_MS: 'soon' }, withFixture)).toThrow(
      /FIXTURE_JOB_DEADLINE_MS/,
    );
  });

  it('refuses a setting that two owners define', () => {
    const clash = defineModule({ name: 'clash', settings: z.object({ PORT: z.string().default('x') }) });
    expect(() => appConfigSchema([...modules, clash])).toThrow('the setting PORT is defined twice');
    const twice = defineModule({ name: 'twice', settings: fixtureModule.settings });
    expect(() => appConfigSchema([fixtureModule, twice])).toThrow(
      /the setting FIXTURE_JOB_\w+ is defined twice/,
    );
  });
});

const empty = modules.length === 0;
if (empty)
  console.warn(
    'skipped: the module list checks — app/modules.ts lists no module (after npm run example:remove; add one with npm run new-aggregate)',
  );

describe.skipIf(empty)('the module list', () => {
  it('names each module, and each projection, once', () => {
    const names = modules.map((module) => module.name);
    expect(new Set(names).size).toBe(names.length);
    const projections = projectionsOf(modules, {}).map((projection) => projection.name);
    expect(new Set(projections).size).toBe(projections.length);
  });
});
