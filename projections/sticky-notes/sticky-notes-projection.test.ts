import { describe, expect, it } from 'vitest';
import { samples } from '../../domain/sticky-notes/testing/sticky-note-samples.js';
import { createEmbeddedReadStore } from '../../infra/read-store/embedded-read-store.js';
import { applyEvents, projectionSpec, readModel } from '../engine/testing/projection-spec.js';
import { recordedEvents, testTime } from '../engine/testing/recorded-events.js';
import { STICKY_NOTES, stickyNotesProjection } from './sticky-notes-projection.js';

const stream = 'stickyNote-a';
const archivedAt = '2026-03-01T12:00:00.000Z';
const created = {
  streamId: stream,
  type: 'StickyNoteCreated',
  data: { stickyNoteId: 'a', ...samples.created },
};
const edited = { streamId: stream, type: 'StickyNoteEdited', data: { stickyNoteId: 'a', ...samples.edit } };
const archived = { streamId: stream, type: 'StickyNoteArchived', data: { stickyNoteId: 'a', archivedAt } };

const document = (fields: Record<string, unknown>) => ({
  _id: 'a',
  stickyNoteId: 'a',
  ...samples.created,
  status: 'active',
  revision: 0,
  createdAt: testTime(1),
  updatedAt: testTime(1),
  ...fields,
});

describe('sticky-notes projection', () => {
  const spec = projectionSpec(stickyNotesProjection());

  it('StickyNoteCreated: an active sticky note with its fields', () =>
    spec.given(recordedEvents([created])).then({ sticky_notes: [document({})] }));

  it('StickyNoteEdited: the fields it changed, and the revision it reflects', () =>
    spec
      .given(recordedEvents([created, edited]))
      .then({ sticky_notes: [document({ ...samples.edit, revision: 1, updatedAt: testTime(2) })] }));

  it('StickyNoteArchived: archived, when, fields kept', () =>
    spec.given(recordedEvents([created, edited, archived])).then({
      sticky_notes: [
        document({ ...samples.edit, status: 'archived', archivedAt, revision: 2, updatedAt: testTime(3) }),
      ],
    }));

  it('declares the index the list by status reads with', () => {
    expect(stickyNotesProjection().collections).toEqual([
      { name: STICKY_NOTES, indexes: [{ keys: { status: 1, _id: 1 } }] },
    ]);
  });

  it('rejects event data the domain schema refuses (the projector parks it)', () =>
    spec
      .given(recordedEvents([{ ...created, data: { ...created.data, ...samples.invalid } }]))
      .thenThrows(/invalid StickyNoteCreated/));

  it('rejects an event filed under another sticky note’s stream', () =>
    spec.given(recordedEvents([{ ...created, streamId: 'stickyNote-b' }])).thenThrows(/is in stream/));

  it('replaying, twice or out of order, gives the same read model', async () => {
    const projection = stickyNotesProjection();
    const events = recordedEvents([created, edited, archived]);
    const once = createEmbeddedReadStore();
    await applyEvents(once, projection, events);
    const again = createEmbeddedReadStore();
    await applyEvents(again, projection, [...events, ...events.toReversed()]);
    expect(await readModel(again, projection)).toEqual(await readModel(once, projection));
  });
  // scaffold:projection-tests
});
