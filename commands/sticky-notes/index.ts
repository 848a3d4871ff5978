import { stickyNoteCommandRoutes } from './sticky-note-routes.js';

/** The sticky-notes module's part of the write side (composed into the module in app/modules/sticky-notes.ts). */
export const stickyNoteCommands = stickyNoteCommandRoutes();
