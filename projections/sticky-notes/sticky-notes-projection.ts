import { streamIdFor } from '../../domain/shared/decider.js';
import {
  type StickyNoteEvent,
  type StickyNoteFields,
  stickyNoteAggregate,
  stickyNoteEventTypes,
} from '../../domain/sticky-notes/sticky-note.js';
import type { Cache } from '../../infra/cache/cache.js';
import type { RecordedEvent } from '../../infra/event-store/event-store.js';
import type { Document } from '../../infra/read-store/read-store.js';
import { cacheDocuments } from '../engine/cache-documents.js';
import { occurredAt } from '../engine/event-time.js';
import { guardedUpsert } from '../engine/guarded-upsert.js';
import type { Projection } from '../engine/projection.js';

export const STICKY_NOTES_PROJECTION = 'sticky-notes';
export const STICKY_NOTES = 'sticky_notes';
const STREAM_PREFIX = `${stickyNoteAggregate.category}-`;

/** One per sticky note: its fields and status as of `revision` of its stream. */
export type StickyNoteDocument = Document &
  StickyNoteFields & {
    stickyNoteId: string;
    status: 'active' | 'archived';
    /** Set once it is archived. */
    archivedAt?: string;
    revision: number;
    createdAt: string;
    updatedAt: string;
  };

/** The cache entry of a sticky note: the document without its storage key. */
export const stickyNoteCacheKey = (stickyNoteId: string): string => `sticky-note:${stickyNoteId}`;
const stickyNoteSummary = ({ _id, ...summary }: StickyNoteDocument) => summary;

/**
 * A recorded sticky note event in its current shape (upcast from the version it was stored at; a
 * version newer than this code throws), checked against the domain's schemas, in its own stream:
 * documents are guarded by that stream's revision, so an event filed elsewhere would corrupt them.
 * Anything that does not check out throws, and the projector parks the event. (When a second
 * projection reads these events, move this into a file of its own that both import.)
 */
const readStickyNoteEvent = (recorded: RecordedEvent): { event: StickyNoteEvent; at: string } => {
  const event = stickyNoteAggregate.parseEvent(recorded);
  const expected = streamIdFor(stickyNoteAggregate, event.data.stickyNoteId);
  if (recorded.streamId !== expected)
    throw new Error(
      `${event.type} for sticky note ${event.data.stickyNoteId} is in stream ${recorded.streamId}, not ${expected}`,
    );
  return { event, at: occurredAt(recorded) };
};

export type StickyNotesProjectionOptions = {
  /** Keeps `sticky-note:<id>` in the cache fresh after every batch. */
  cache?: { cache: Cache; ttlSeconds: number };
};

/**
 * The `sticky_notes` read model: each sticky note by id (GET /sticky-notes/:id), listed by status
 * in id order (GET /sticky-notes?status=), which the index on { status, _id } serves.
 */
export const stickyNotesProjection = ({ cache }: StickyNotesProjectionOptions = {}): Projection => ({
  name: STICKY_NOTES_PROJECTION,
  eventTypes: stickyNoteEventTypes,
  streamPrefixes: [STREAM_PREFIX],
  collections: [{ name: STICKY_NOTES, indexes: [{ keys: { status: 1, _id: 1 } }] }],

  handle(recorded) {
    const { event, at } = readStickyNoteEvent(recorded);
    const { stickyNoteId } = event.data;
    // Guarded by the stream revision: a redelivered or older event changes nothing.
    const write = (fields: Partial<StickyNoteDocument>) => ({
      [STICKY_NOTES]: [
        guardedUpsert(stickyNoteId, recorded.revision, { $set: { ...fields, updatedAt: at } }),
      ],
    });
    switch (event.type) {
      case 'StickyNoteCreated':
        return write({ ...event.data, status: 'active', createdAt: at });
      case 'StickyNoteEdited':
        // The fields the edit changed, and only those.
        return write(event.data);
      case 'StickyNoteArchived':
        return write({ status: 'archived', archivedAt: event.data.archivedAt });
      // scaffold:project
    }
  },

  ...(cache && {
    afterFlush: cacheDocuments<StickyNoteDocument>({
      cache: cache.cache,
      collection: STICKY_NOTES,
      key: stickyNoteCacheKey,
      version: (doc) => doc.revision,
      value: stickyNoteSummary,
      ttlSeconds: cache.ttlSeconds,
    }),
  }),
});
