import { runApp } from '../run.js';

/**
 * `node --import tsx app/testing/fixture-main.ts`: app/main.ts with the fixture module
 * (fixture-module.ts) instead of the app's modules, for the tests that run the app as a process
 * (shutdown under load) and must not depend on the example.
 */
await runApp({ modules: async () => [(await import('./fixture-module.js')).fixtureModule] });
