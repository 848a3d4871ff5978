import type { AggregateNames } from '../names.js';

/** app/modules/<plural>.ts: the module value, composing the parts each layer's index exports. */
export const moduleValue = (
  n: AggregateNames,
) => `import { ${n.camel}Commands } from '../../commands/${n.kebabPlural}/index.js';
import { ${n.camel}Projections } from '../../projections/${n.kebabPlural}/index.js';
import { ${n.camel}Queries } from '../../read-api/${n.kebabPlural}/index.js';
import { defineModule } from '../module.js';

/** ${n.pascalPlural}: created with a name, renamed while active, archived for good. */
export const ${n.camelPlural} = defineModule({
  name: '${n.kebabPlural}',
  commandRoutes: ${n.camel}Commands,
  projections: ${n.camel}Projections,
  queryRoutes: ${n.camel}Queries,
  openApiTags: [
    { name: '${n.kebabPlural}: commands', description: 'Create a ${n.words}, rename it, archive it' },
    { name: '${n.kebabPlural}: queries', description: 'A ${n.words}, from its read model' },
  ],
});
`;
