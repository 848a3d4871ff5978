import {
  FixtureSettings,
  fixtureCommands,
  fixtureProcessManager,
} from '../../commands/testing/fixture-commands.js';
import { fixtureProjections } from '../../projections/engine/testing/fixture-projection.js';
import { fixtureQueryRoutes } from '../../read-api/testing/fixture-query-routes.js';
import { defineModule } from '../module.js';

/**
 * A module of the engines' own, for the tests of the app as a whole (the system, its roles, its
 * metrics and tracing, shutdown under load, an idle system, the no-5xx property): a counter with
 * its command routes, read models and query routes, and a job process manager with its route and
 * settings. Those tests start the app with `modules: [fixtureModule]`, so they run the same with
 * or without the example (npm run example:remove). Not in app/modules.ts: the app never serves it.
 */
export const fixtureModule = defineModule({
  name: 'fixture',
  settings: FixtureSettings,
  commandRoutes: fixtureCommands,
  processManagers: [fixtureProcessManager],
  projections: fixtureProjections,
  queryRoutes: fixtureQueryRoutes,
  openApiTags: [
    { name: 'fixture: commands', description: 'Open a counter, change it; start a job' },
    { name: 'fixture: queries', description: 'Counters and their changes, from the read models' },
  ],
});
