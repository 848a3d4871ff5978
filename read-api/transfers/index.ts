/** The transfers module's part of the read API (composed into the module in app/modules/transfers.ts). */
export { transferQueryRoutes as transferQueries } from './transfer-query-routes.js';
