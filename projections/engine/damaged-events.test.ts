import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../infra/event-store/event-store.js';
import { createSqliteEventStore } from '../../infra/event-store/sqlite-event-store.js';
import { tamperWithEventsFile } from '../../infra/event-store/testing/tamper.js';
import { createLogger } from '../../infra/logger.js';
import { createEmbeddedReadStore } from '../../infra/read-store/embedded-read-store.js';
import type { ReadStore } from '../../infra/read-store/read-store.js';
import { guardedUpsert } from './guarded-upsert.js';
import { parkedEvents } from './parked-events.js';
import { project } from './project.js';
import type { Projection } from './projection.js';
import { createCounters } from './projector-counters.js';
import { replayParked } from './replay-parked.js';

/**
 * A projection over a real SQLite log in which one stored event was changed behind the store's
 * back: the projector must not apply what it reads there (the store's checksum says it is not what
 * was written), and must not stop either.
 */
const dir = mkdtempSync(join(tmpdir(), 'eventfold-damaged-projection-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logger = createLogger({ level: 'silent' });

/** The running total of each stream's `Added` amounts, guarded by revision. */
const totals = (): Projection & { seen: bigint[] } => {
  const seen: bigint[] = [];
  return {
    name: 'totals',
    eventTypes: ['Added'],
    collections: [{ name: 'totals' }],
    seen,
    handle(event) {
      seen.push(event.position);
      const { total } = event.data as { total: number };
      return { totals: [guardedUpsert(event.streamId, event.revision, { $set: { total } })] };
    },
  };
};

const add = (store: EventStore, streamId: string, total: number) =>
  store.append(
    streamId,
    [
      {
        type: 'Added',
        data: { total },
        metadata: {
          eventId: randomUUID(),
          correlationId: 'c',
          causationId: 'c',
          occurredAt: new Date().toISOString(),
          schemaVersion: 1,
        },
      },
    ],
    { expectedRevision: 'any' },
  );

const runUntilHead = async (projection: Projection, eventStore: EventStore, readStore: ReadStore) => {
  const counters = createCounters();
  const checkpoint = await project({
    projection,
    eventStore,
    readStore,
    logger,
    tuning: { batchSize: 2, flushIntervalMs: 5, maxAttempts: 2, backoffMs: 1, afterFlushTimeoutMs: 1000 },
    counters,
    instance: 'test',
    after: undefined,
    until: await eventStore.headPosition(),
    collectionName: (name) => name,
    signal: new AbortController().signal,
  });
  return { checkpoint, counters };
};

describe('a projection meeting a damaged event', () => {
  it('parks it unread (its stream behind it), projects everything else, and replays it once the log is restored', async () => {
    const file = join(dir, 'events.sqlite');
    const store = createSqliteEventStore({ file });
    await add(store, 'a', 10); // position 1
    await add(store, 'a', 20); // 2: damaged below
    await add(store, 'b', 5); // 3
    await add(store, 'a', 30); // 4: behind it
    await add(store, 'b', 6); // 5
    const backup = join(dir, 'backup.sqlite');
    tamperWithEventsFile(file, `VACUUM INTO '${backup}'`);
    expect(tamperWithEventsFile(file, `UPDATE events SET data = '{"total":2000}' WHERE position = 2`)).toBe(
      1,
    );

    const readStore = createEmbeddedReadStore();
    const projection = totals();
    const { checkpoint, counters } = await runUntilHead(projection, store, readStore);
    expect(checkpoint).toBe(5n);
    expect(counters.parked).toBe(2);
    expect(projection.seen).toEqual([1n, 3n, 5n]);
    expect(await readStore.collection('totals').find({}, { sort: { _id: 1 } })).toEqual([
      { _id: 'a', total: 10, revision: 0 },
      { _id: 'b', total: 6, revision: 1 },
    ]);
    const parked = await parkedEvents(readStore).list('totals');
    expect(parked).toEqual([
      expect.objectContaining({
        _id: 'totals:2',
        event: expect.objectContaining({
          streamId: 'a',
          revision: 1,
          position: '2',
          type: 'Added',
          data: null,
        }),
        error: expect.objectContaining({
          name: 'CorruptEventError',
          message:
            'stream a: the stored event at revision 1 (position 2) is damaged: its checksum does not match its content',
        }),
        damaged: true,
      }),
      expect.objectContaining({ _id: 'totals:4', behind: 'totals:2' }),
    ]);

    // Replaying needs the log: the parked copy has no content, and the damaged one is refused again.
    expect(await replayParked({ projection, readStore, logger })).toMatchObject({
      replayed: [],
      failed: [
        { id: 'totals:2', error: expect.stringMatching(/damaged in the event log: restore it there/) },
      ],
      waiting: ['totals:4'],
    });
    expect(await replayParked({ projection, readStore, eventStore: store, logger })).toMatchObject({
      replayed: [],
      failed: [{ id: 'totals:2', error: expect.stringMatching(/is damaged: its checksum does not match/) }],
    });
    await store.close();

    // The operator restores the file from the backup: the event reads again, and the stream catches up.
    const restored = createSqliteEventStore({ file: backup });
    expect(await replayParked({ projection, readStore, eventStore: restored, logger })).toEqual({
      replayed: ['totals:2', 'totals:4'],
      superseded: [],
      failed: [],
      waiting: [],
    });
    expect(await readStore.collection('totals').find({ _id: 'a' })).toEqual([
      { _id: 'a', total: 30, revision: 2 },
    ]);
    await restored.close();
  });
});
