/** The accounts module's part of the read API (composed into the module in app/modules/accounts.ts). */
export { accountQueryRoutes as accountQueries } from './account-query-routes.js';
