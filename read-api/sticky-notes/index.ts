/** The sticky-notes module's part of the read API (composed into the module in app/modules/sticky-notes.ts). */
export { stickyNoteQueryRoutes as stickyNoteQueries } from './sticky-note-query-routes.js';
