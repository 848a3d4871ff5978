import type { ReadStore } from '../../infra/read-store/read-store.js';
import {
  STICKY_NOTES,
  type StickyNoteDocument,
} from '../../projections/sticky-notes/sticky-notes-projection.js';
import type { DocumentViews } from '../views/document-views.js';
import { StickyNoteView } from './sticky-note-views.js';

// The document, its collection and its cache key belong to the projection that writes them
// (projections/sticky-notes/); this side queries them and maps them to views.

/** The document minus its storage key; the view's schema then checks it (and drops any extra). */
export const toStickyNoteView = ({ _id, ...view }: StickyNoteDocument) => view;

/** The sticky note routes' view of their documents, checked: an invalid document has none. */
export const stickyNoteViews = (views: DocumentViews) =>
  views(STICKY_NOTES, StickyNoteView, toStickyNoteView);

export type StickyNoteViews = ReturnType<typeof stickyNoteViews>;

/**
 * The queries behind the sticky note routes. The list reads `limit + 1` rows in _id order, with
 * the status filter an index serves ({ status, _id }, declared by the projection), resuming
 * strictly after the last id of the previous page: so pages never repeat or skip a row that
 * existed throughout.
 */
export const stickyNoteReadModel = (readStore: ReadStore) => {
  const stickyNotes = readStore.collection<StickyNoteDocument>(STICKY_NOTES);
  return {
    findStickyNote: (stickyNoteId: string) => stickyNotes.findOne({ _id: stickyNoteId }),

    listStickyNotes: (query: { status?: string; after?: string; limit: number }) =>
      stickyNotes.find(
        {
          ...(query.status !== undefined && { status: query.status }),
          ...(query.after !== undefined && { _id: { $gt: query.after } }),
        },
        { sort: { _id: 1 }, limit: query.limit + 1 },
      ),
  };
};

export type StickyNoteReadModel = ReturnType<typeof stickyNoteReadModel>;

/** The usual store for plain reads; the consistent one for reads that waited for a position. */
export type StickyNoteReadModels = { usual: StickyNoteReadModel; consistent: StickyNoteReadModel };
