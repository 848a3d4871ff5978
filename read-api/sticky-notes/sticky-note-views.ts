import { z } from 'zod';
import { StickyNoteFields, StickyNoteId } from '../../domain/sticky-notes/sticky-note.js';
import { pageOf, pageQuery } from '../http/page.js';

const Status = z.enum(['active', 'archived']);

// What the read API answers with: the read-model document minus its storage key, the fields as the
// domain defines them. Parsing a cache entry with this schema also drops whatever else it carries.
export const StickyNoteView = z
  .object({
    stickyNoteId: StickyNoteId,
    ...StickyNoteFields.shape,
    status: Status,
    archivedAt: z.string().optional().describe('When it was archived; absent while it is active'),
    revision: z
      .number()
      .int()
      .nonnegative()
      .describe('Revision of the sticky note stream this view reflects'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'StickyNote' });
export type StickyNoteView = z.infer<typeof StickyNoteView>;

export const StickyNotePage = pageOf(StickyNoteView).meta({ id: 'StickyNotePage' });

export const StickyNoteParams = z.strictObject({ id: StickyNoteId });

export const ListStickyNotesQuery = z.strictObject({
  status: Status.optional().describe('Only sticky notes with this status'),
  ...pageQuery,
});

/** GET /sticky-notes/:id takes no query parameters; an unknown one is refused, not ignored. */
export const NoQuery = z.strictObject({});
