import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventData, EventStore, RecordedEvent } from './event-store.js';
import { CorruptSnapshotError, type SnapshotStore } from './snapshot-store.js';

/** A snapshot store and the event store it keeps snapshots beside (the same file, the same server). */
export type SnapshotStores = {
  events: EventStore;
  snapshots: SnapshotStore;
  /** Changes the stored snapshot of `streamId` behind the store's back (an edited row, a server fault). */
  damage: (streamId: string) => Promise<void> | void;
  close(): Promise<void>;
};

/**
 * The snapshot store port, pinned down, with what it must never do to the event store beside it:
 * show a snapshot as an event. Every adapter runs it on a new, empty store per test:
 *
 *   snapshotStoreContract('SQLite', () => sqliteStores(file));
 */
export const snapshotStoreContract = (name: string, create: () => Promise<SnapshotStores>): void => {
  describe(`snapshot store contract: ${name}`, () => {
    let stores: SnapshotStores;
    let stream: string;
    beforeEach(async () => {
      stores = await create();
      stream = `account-${randomUUID()}`;
    });
    afterEach(async () => {
      await stores.close();
    });

    it('has no snapshot of a stream it never saved one for', async () => {
      expect(await stores.snapshots.load(stream)).toBeUndefined();
    });

    it('loads what was saved: revision, version and JSON data exactly', async () => {
      const data = {
        text: 'zürich ✓ 🚀 "quoted" \\ back\nline',
        numbers: [0, -1.5, 1e21, Number.MAX_SAFE_INTEGER],
        flags: { yes: true, no: false, none: null },
        nested: { list: [{ a: [[], {}] }] },
        large: 'x'.repeat(300_000),
      };
      await stores.snapshots.save({ streamId: stream, revision: 4711, version: '3.abc', data });
      expect(await stores.snapshots.load(stream)).toStrictEqual({
        streamId: stream,
        revision: 4711,
        version: '3.abc',
        data,
      });
    });

    it('keeps the last save of a stream, whatever its revision, and one per stream', async () => {
      const other = `${stream}-1`;
      await stores.snapshots.save({ streamId: stream, revision: 99, version: '1', data: { n: 1 } });
      await stores.snapshots.save({ streamId: other, revision: 7, version: '1', data: { n: 2 } });
      await stores.snapshots.save({ streamId: stream, revision: 199, version: '2', data: { n: 3 } });
      expect(await stores.snapshots.load(stream)).toMatchObject({
        revision: 199,
        version: '2',
        data: { n: 3 },
      });
      // A store restored from a backup may hold a stream that is shorter: a save at a lower revision wins too.
      await stores.snapshots.save({ streamId: stream, revision: 50, version: '2', data: { n: 4 } });
      expect(await stores.snapshots.load(stream)).toMatchObject({ revision: 50, data: { n: 4 } });
      expect(await stores.snapshots.load(other)).toMatchObject({ revision: 7, data: { n: 2 } });
    });

    it('a damaged snapshot throws CorruptSnapshotError naming the stream; the next save replaces it', async () => {
      await stores.snapshots.save({ streamId: stream, revision: 9, version: '1', data: { balance: 900 } });
      await stores.damage(stream);
      const error = await stores.snapshots.load(stream).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptSnapshotError);
      expect(error).toMatchObject({ streamId: stream });
      await stores.snapshots.save({ streamId: stream, revision: 10, version: '1', data: { balance: 1 } });
      expect(await stores.snapshots.load(stream)).toMatchObject({ revision: 10, data: { balance: 1 } });
    });

    it('a snapshot is never an event: not in the stream, $all, a subscription or the head', async () => {
      const { events, snapshots } = stores;
      await events.append(stream, [event('Opened')], { expectedRevision: 'no_stream' });
      const head = await events.headPosition();
      const seen: RecordedEvent[] = [];
      const seenFiltered: RecordedEvent[] = [];
      const controller = new AbortController();
      const follow = async (into: RecordedEvent[], filter?: { streamPrefixes: string[] }) => {
        for await (const e of events.subscribeToAll({ after: head, filter, signal: controller.signal }))
          into.push(e);
      };
      const following = [follow(seen), follow(seenFiltered, { streamPrefixes: [stream, 'snapshot'] })];

      await snapshots.save({ streamId: stream, revision: 0, version: '1', data: { n: 1 } });
      expect(await events.headPosition()).toBe(head);
      expect(await events.readAll({ after: head })).toEqual([]);
      expect((await events.readStream(stream)).map((e) => e.type)).toEqual(['Opened']);

      // A domain event after it is the first thing every subscriber gets.
      await events.append(stream, [event('Deposited')], { expectedRevision: 0 });
      await waitFor(() => seen.length > 0 && seenFiltered.length > 0);
      controller.abort();
      await Promise.all(following);
      for (const got of [seen, seenFiltered, await events.readAll({ after: head })])
        expect(got.map((e) => [e.streamId, e.type])).toEqual([[stream, 'Deposited']]);
      expect(await snapshots.load(stream)).toMatchObject({ revision: 0 });
    });
  });
};

const event = (type: string): EventData => ({
  type,
  data: { at: 1 },
  metadata: {
    eventId: randomUUID(),
    correlationId: randomUUID(),
    causationId: randomUUID(),
    occurredAt: new Date(0).toISOString(),
    schemaVersion: 1,
  },
});

const waitFor = async (ready: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the subscribers');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};
