/** The accounts module's part of the write side (composed into the module in app/modules/accounts.ts). */
export { accountCommandRoutes as accountCommands } from './account-routes.js';
