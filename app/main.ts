import { runApp } from './run.js';

/**
 * `npm start` (or `node dist/app/main.js`): the roles ROLES names, in one process, configured
 * from the environment, with the app's modules (app/modules.ts). See run.ts.
 */
await runApp();
