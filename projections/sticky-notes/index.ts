import type { ModuleProjections } from '../projection-module.js';
import { stickyNotesProjection } from './sticky-notes-projection.js';

/** The sticky-notes module's read model (composed into the module in app/modules/sticky-notes.ts). */
export const stickyNoteProjections: ModuleProjections = ({ cache }) => [stickyNotesProjection({ cache })];
