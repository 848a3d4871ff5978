import { accounts } from './modules/accounts.js';
import { transfers } from './modules/transfers.js';

/**
 * The app's modules. Everything else loops over this list: the command API, the read API, the
 * projectors, the process managers, the configuration (.env.example lists their settings too), the
 * API docs, `npm run parked` and `npm run projections:rebuild`. Adding a module is one import and
 * one entry here.
 */
export const modules = [accounts, transfers] as const;
