import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CorruptEventError,
  type EventData,
  type EventMetadata,
  type EventStore,
  type ExpectedRevision,
  type Position,
  type RecordedEvent,
  type SubscribeOptions,
  WrongExpectedRevisionError,
} from './event-store.js';
import { eventStoreExpiryContract } from './event-store-expiry.contract.js';

export type EventStoreContractOptions = {
  /**
   * Every `create()` returns a new, empty store (memory, a new SQLite file). Adds the tests that
   * need an empty log; the others never assume one, so they also run against a shared server.
   */
  freshStore?: boolean;
  /**
   * Damages the stored event at `revision` of `streamId` behind the store's back (an edited file, a
   * test server's fault hook, the memory store's test hook). Adds the tests of damaged events.
   */
  damage?: (store: EventStore, streamId: string, revision: number) => Promise<void> | void;
  /** Moves the store's clock on by `ms` (the test server's): adds the test of `$maxAge` taking effect. */
  advanceClock?: (store: EventStore, ms: number) => Promise<void> | void;
  /** The optional capabilities the adapter does not have, each with why (printed): see event-store-expiry.contract.ts. */
  without?: { expireStreams?: string; setStreamMaxAge?: string };
};

/**
 * The event store port, pinned down. Every adapter runs this suite:
 *
 *   eventStoreContract('SQLite', () => createSqliteEventStore({ file }), { freshStore: true });
 *
 * Each test works in its own namespace (fresh stream ids, prefixes and event types) and reads
 * `$all` only after the head it saw first, so the suite can run against a busy shared server.
 */
export const eventStoreContract = (
  name: string,
  create: () => Promise<EventStore> | EventStore,
  options: EventStoreContractOptions = {},
): void => {
  if (!options.freshStore)
    console.warn(`skipped: 2 tests of the event store contract on ${name}: they need an empty store`);
  if (!options.damage)
    console.warn(
      `skipped: the damaged-event tests of the event store contract on ${name}: no way to damage an event there`,
    );
  describe(`event store contract: ${name}`, () => {
    let store: EventStore;
    let ns: string;
    let before: Position | undefined;
    const ours = () => ({ after: before, filter: { streamPrefixes: [ns] } });

    beforeEach(async () => {
      store = await create();
      ns = `contract-${randomUUID()}`;
      before = await store.headPosition();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('append', () => {
      it("'no_stream' creates the stream and returns the revision and position of its last event", async () => {
        const stream = `${ns}-a`;
        const result = await store.append(stream, [event('Opened'), event('Renamed')], {
          expectedRevision: 'no_stream',
        });
        const read = await store.readStream(stream);
        expect(read.map((e) => e.revision)).toEqual([0, 1]);
        expect(result).toEqual({ nextRevision: 1, position: read[1]?.position });
        expect(read[0]!.position < read[1]!.position).toBe(true);
      });

      it("'no_stream' fails on an existing stream and names its actual revision", async () => {
        const stream = `${ns}-a`;
        await store.append(stream, [event('Opened'), event('Renamed')], { expectedRevision: 'no_stream' });
        await expectWrongRevision(
          store.append(stream, [event('Opened')], { expectedRevision: 'no_stream' }),
          {
            streamId: stream,
            expected: 'no_stream',
            actual: 1,
          },
        );
      });

      it("'exists' appends to an existing stream and fails on a missing one", async () => {
        const stream = `${ns}-a`;
        await expectWrongRevision(store.append(stream, [event('Renamed')], { expectedRevision: 'exists' }), {
          streamId: stream,
          expected: 'exists',
          actual: 'no_stream',
        });
        await store.append(stream, [event('Opened')], { expectedRevision: 'no_stream' });
        const result = await store.append(stream, [event('Renamed')], { expectedRevision: 'exists' });
        expect(result.nextRevision).toBe(1);
      });

      it("'any' appends whether or not the stream exists", async () => {
        const stream = `${ns}-a`;
        expect(
          (await store.append(stream, [event('Opened')], { expectedRevision: 'any' })).nextRevision,
        ).toBe(0);
        expect(
          (await store.append(stream, [event('Renamed')], { expectedRevision: 'any' })).nextRevision,
        ).toBe(1);
      });

      it('a number appends when it is the last revision and fails when it is stale', async () => {
        const stream = `${ns}-a`;
        await store.append(stream, [event('Opened'), event('Renamed')], { expectedRevision: 'no_stream' });
        const result = await store.append(stream, [event('Renamed')], { expectedRevision: 1 });
        expect(result.nextRevision).toBe(2);
        await expectWrongRevision(store.append(stream, [event('Renamed')], { expectedRevision: 1 }), {
          streamId: stream,
          expected: 1,
          actual: 2,
        });
        await expectWrongRevision(store.append(stream, [event('Renamed')], { expectedRevision: 3 }), {
          streamId: stream,
          expected: 3,
          actual: 2,
        });
      });

      it('a number fails on a missing stream', async () => {
        const stream = `${ns}-a`;
        await expectWrongRevision(store.append(stream, [event('Opened')], { expectedRevision: 0 }), {
          streamId: stream,
          expected: 0,
          actual: 'no_stream',
        });
      });

      it('a revision no stream can have fails like a stale one', async () => {
        const stream = `${ns}-a`;
        await store.append(stream, [event('Opened')], { expectedRevision: 'no_stream' });
        for (const expected of [-1, 0.5]) {
          await expectWrongRevision(
            store.append(stream, [event('Renamed')], { expectedRevision: expected }),
            {
              streamId: stream,
              expected,
              actual: 0,
            },
          );
        }
      });

      it('a failed append writes none of its events', async () => {
        const stream = `${ns}-a`;
        await store.append(stream, [event('Opened')], { expectedRevision: 'no_stream' });
        const failing = store.append(stream, [event('Renamed'), event('Renamed'), event('Closed')], {
          expectedRevision: 5,
        });
        await expect(failing).rejects.toBeInstanceOf(WrongExpectedRevisionError);
        expect(await store.readStream(stream)).toHaveLength(1);
        expect(await store.readAll(ours())).toHaveLength(1);
      });

      it('rejects an append of no events and creates no stream', async () => {
        const stream = `${ns}-a`;
        await expect(store.append(stream, [], { expectedRevision: 'any' })).rejects.toThrow();
        expect(await store.readStream(stream)).toEqual([]);
      });

      it('a multi-event append takes consecutive revisions and increasing positions', async () => {
        const stream = `${ns}-a`;
        await store.append(stream, [event('Opened')], { expectedRevision: 'no_stream' });
        const result = await store.append(stream, [event('Renamed'), event('Renamed'), event('Closed')], {
          expectedRevision: 0,
        });
        const read = await store.readStream(stream, { fromRevision: 1 });
        expect(read.map((e) => e.revision)).toEqual([1, 2, 3]);
        expectIncreasing(read.map((e) => e.position));
        expect(result).toEqual({ nextRevision: 3, position: read[2]?.position });
      });

      it('positions increase strictly across streams', async () => {
        const results = [];
        for (const suffix of ['a', 'b', 'a', 'c', 'b']) {
          results.push(await store.append(`${ns}-${suffix}`, [event('Noted')], { expectedRevision: 'any' }));
        }
        expectIncreasing(results.map((r) => r.position));
        const all = await store.readAll(ours());
        expect(all.map((e) => e.position)).toEqual(results.map((r) => r.position));
        expect(all.map((e) => e.streamId)).toEqual(['a', 'b', 'a', 'c', 'b'].map((s) => `${ns}-${s}`));
      });
    });

    describe('readStream', () => {
      it('returns an empty array for a stream that does not exist', async () => {
        expect(await store.readStream(`${ns}-missing`)).toEqual([]);
      });

      it('returns the stream from a revision on', async () => {
        const stream = `${ns}-a`;
        await store.append(
          stream,
          [1, 2, 3, 4, 5].map(() => event('Noted')),
          { expectedRevision: 'no_stream' },
        );
        expect((await store.readStream(stream, { fromRevision: 3 })).map((e) => e.revision)).toEqual([3, 4]);
        expect(await store.readStream(stream, { fromRevision: 5 })).toEqual([]);
      });

      it("returns only the stream's own events, not those of a stream whose id extends it", async () => {
        const stream = `${ns}-a`;
        await store.append(stream, [event('Opened')], { expectedRevision: 'no_stream' });
        await store.append(`${stream}-other`, [event('Opened')], { expectedRevision: 'no_stream' });
        await store.append(stream, [event('Renamed')], { expectedRevision: 0 });
        const read = await store.readStream(stream);
        expect(read.map((e) => [e.streamId, e.revision, e.type])).toEqual([
          [stream, 0, 'Opened'],
          [stream, 1, 'Renamed'],
        ]);
      });
    });

    describe('readAll', () => {
      it('returns events in position order with their stream, revision and position', async () => {
        const a = await store.append(`${ns}-a`, [event('Opened'), event('Renamed')], {
          expectedRevision: 'any',
        });
        const b = await store.append(`${ns}-b`, [event('Opened')], { expectedRevision: 'any' });
        const all = await store.readAll(ours());
        expect(all.map((e) => [e.streamId, e.revision, e.type])).toEqual([
          [`${ns}-a`, 0, 'Opened'],
          [`${ns}-a`, 1, 'Renamed'],
          [`${ns}-b`, 0, 'Opened'],
        ]);
        expect(all[1]?.position).toBe(a.position);
        expect(all[2]?.position).toBe(b.position);
        // Without a filter, our events come in the same order among whatever else is there.
        const unfiltered = (await store.readAll({ after: before })).filter((e) => e.streamId.startsWith(ns));
        expect(unfiltered.map((e) => e.position)).toEqual(all.map((e) => e.position));
      });

      it('starts after the given position, exclusively', async () => {
        await store.append(`${ns}-a`, [event('Opened'), event('Renamed'), event('Closed')], {
          expectedRevision: 'any',
        });
        const [first, ...rest] = await store.readAll(ours());
        const after = await store.readAll({ ...ours(), after: first?.position });
        expect(after.map((e) => e.position)).toEqual(rest.map((e) => e.position));
      });

      it('returns at most maxCount matching events', async () => {
        await store.append(`${ns}-a`, [event('Opened'), event('Renamed'), event('Closed')], {
          expectedRevision: 'any',
        });
        const all = await store.readAll(ours());
        const page = await store.readAll({ ...ours(), maxCount: 2 });
        expect(page.map((e) => e.position)).toEqual(all.slice(0, 2).map((e) => e.position));
      });

      it('filters by event type, by stream prefix, and by both', async () => {
        const opened = `${ns}.Opened`;
        const closed = `${ns}.Closed`;
        await store.append(`${ns}-x-1`, [event(opened), event(closed)], { expectedRevision: 'any' });
        await store.append(`${ns}-y-1`, [event(opened), event('Other')], { expectedRevision: 'any' });
        await store.append(`${ns}-z-1`, [event(closed)], { expectedRevision: 'any' });
        await store.append(`x${ns}-y-1`, [event('Other')], { expectedRevision: 'any' }); // contains, not starts with
        const read = (filter: { eventTypes?: string[]; streamPrefixes?: string[] }, maxCount?: number) =>
          store
            .readAll({ after: before, filter, maxCount })
            .then((events) =>
              events.map((e) => `${e.streamId.slice(ns.length + 1)}:${e.type.replace(ns, '')}`),
            );

        expect(await read({ eventTypes: [opened] })).toEqual(['x-1:.Opened', 'y-1:.Opened']);
        expect(await read({ eventTypes: [opened, closed] })).toEqual([
          'x-1:.Opened',
          'x-1:.Closed',
          'y-1:.Opened',
          'z-1:.Closed',
        ]);
        expect(await read({ eventTypes: [closed] }, 1)).toEqual(['x-1:.Closed']);
        expect(await read({ streamPrefixes: [`${ns}-y`, `${ns}-z`] })).toEqual([
          'y-1:.Opened',
          'y-1:Other',
          'z-1:.Closed',
        ]);
        expect(await read({ eventTypes: [closed], streamPrefixes: [`${ns}-x`, `${ns}-y`] })).toEqual([
          'x-1:.Closed',
        ]);
      });
    });

    describe('round trips', () => {
      it('keeps every metadata field exactly, through every read', async () => {
        const stream = `${ns}-a`;
        const metadata: EventMetadata = {
          eventId: randomUUID(),
          correlationId: randomUUID(),
          causationId: randomUUID(),
          idempotencyKey: `key-${randomUUID()}`,
          occurredAt: '2024-02-29T23:59:59.123Z',
          schemaVersion: 3,
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        };
        const minimal = { ...metadata, eventId: randomUUID() };
        delete minimal.idempotencyKey;
        delete minimal.traceparent;
        const sub = consume(store, ours());
        await store.append(stream, [event('Opened', {}, metadata), event('Renamed', {}, minimal)], {
          expectedRevision: 'no_stream',
        });
        await sub.until(() => sub.events.length === 2, 'two events through the subscription');
        await sub.stop();
        for (const read of [await store.readStream(stream), await store.readAll(ours()), sub.events]) {
          expect(read.map((e) => e.metadata)).toStrictEqual([metadata, minimal]);
        }
      });

      it('keeps nested JSON data exactly', async () => {
        const data = {
          text: 'zürich ✓ 🚀 "quoted" \\ back\nline',
          empty: '',
          numbers: [0, -1.5, 1e21, Number.MAX_SAFE_INTEGER],
          amount: '12345678901234567890.01',
          flags: { yes: true, no: false, none: null },
          nested: { list: [{ a: [[], {}] }, [1, [2, [3]]]], deep: { deeper: { deepest: 'here' } } },
        };
        const stream = `${ns}-a`;
        await store.append(stream, [event('Noted', data), event('Listed', [1, 'two', null])], {
          expectedRevision: 'no_stream',
        });
        const [first, second] = await store.readStream(stream);
        expect(first?.data).toStrictEqual(data);
        expect(second?.data).toStrictEqual([1, 'two', null]);
        expect((await store.readAll(ours()))[0]?.data).toStrictEqual(data);
      });
    });

    describe.runIf(options.damage)('damaged events', () => {
      const damage = (streamId: string, revision: number) => options.damage?.(store, streamId, revision);

      /** Three events in stream a, one in b; the second of a (revision 1) damaged. */
      const damagedSetup = async () => {
        const a = `${ns}-a`;
        const b = `${ns}-b`;
        await store.append(a, [event('Opened'), event('Deposited', { balanceAfter: 900 })], {
          expectedRevision: 'no_stream',
        });
        await store.append(b, [event('Opened')], { expectedRevision: 'no_stream' });
        await store.append(a, [event('Withdrawn')], { expectedRevision: 1 });
        const all = await store.readAll(ours());
        await damage(a, 1);
        return { a, b, all, position: all[1]!.position };
      };

      const expectDamaged = async (read: Promise<unknown>, streamId: string, position: Position) => {
        const error = await read.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(CorruptEventError);
        expect(error).toMatchObject({ streamId, revision: 1, position });
        expect((error as Error).message).toContain(streamId);
      };

      it('a stream read that meets one throws CorruptEventError naming the stream, revision and position', async () => {
        const { a, b, position } = await damagedSetup();
        await expectDamaged(store.readStream(a), a, position);
        // What comes after it, and other streams, still read.
        expect((await store.readStream(a, { fromRevision: 2 })).map((e) => e.type)).toEqual(['Withdrawn']);
        expect((await store.readStream(b)).map((e) => e.type)).toEqual(['Opened']);
      });

      it('a read of $all that meets one throws, and reads on after its position', async () => {
        const { a, all, position } = await damagedSetup();
        await expectDamaged(store.readAll(ours()), a, position);
        expect((await store.readAll({ ...ours(), after: position })).map((e) => e.position)).toEqual(
          all.slice(2).map((e) => e.position),
        );
        expect((await store.readAll({ ...ours(), maxCount: 1 })).map((e) => e.position)).toEqual([
          all[0]!.position,
        ]);
      });

      it('a subscription yields every event before it, then throws; resubscribed after it, it goes on', async () => {
        const { a, b, all, position } = await damagedSetup();
        const sub = consume(store, ours());
        await expectDamaged(
          sub.until(() => false, 'the subscription to fail'),
          a,
          position,
        );
        expect(sub.events.map((e) => e.position)).toEqual([all[0]!.position]);
        const after = consume(store, { ...ours(), after: position });
        await after.until(() => after.events.length === 2, 'the events after the damaged one');
        await after.stop();
        expect(after.events.map((e) => e.streamId)).toEqual([b, a]);
        // A subscriber that does not read that stream never meets it.
        const others = consume(store, { after: before, filter: { streamPrefixes: [b] } });
        await others.until(() => others.events.length === 1, "stream b's event");
        await others.stop();
      });

      it('is reported by damagedEvents() where the store keeps that list', async () => {
        const { a, position } = await damagedSetup();
        await store.readStream(a).catch(() => {});
        if (!store.damagedEvents) return;
        expect(store.damagedEvents()).toEqual([
          expect.objectContaining({ streamId: a, revision: 1, position }),
        ]);
      });
    });

    describe('headPosition', () => {
      it('is at or after the position of the last append', async () => {
        const first = await store.append(`${ns}-a`, [event('Opened')], { expectedRevision: 'any' });
        expect((await store.headPosition())! >= first.position).toBe(true);
        const second = await store.append(`${ns}-b`, [event('Opened')], { expectedRevision: 'any' });
        expect((await store.headPosition())! >= second.position).toBe(true);
      });

      it.runIf(options.freshStore)('is undefined for an empty store, then the last position', async () => {
        expect(await store.headPosition()).toBeUndefined();
        const result = await store.append(`${ns}-a`, [event('Opened'), event('Renamed')], {
          expectedRevision: 'any',
        });
        expect(await store.headPosition()).toBe(result.position);
      });
    });

    describe('subscribeToAll', () => {
      it('catches up, then delivers live appends, in position order', async () => {
        await store.append(`${ns}-a`, [event('Opened'), event('Renamed')], { expectedRevision: 'any' });
        await store.append(`${ns}-b`, [event('Opened')], { expectedRevision: 'any' });
        const sub = consume(store, ours());
        await sub.until(() => sub.events.length === 3, 'the three earlier events');
        await store.append(`${ns}-b`, [event('Renamed')], { expectedRevision: 0 });
        await store.append(`${ns}-a`, [event('Closed')], { expectedRevision: 1 });
        await sub.until(() => sub.events.length === 5, 'the two live events');
        await sub.stop();
        expect(sub.events.map((e) => e.position)).toEqual(
          (await store.readAll(ours())).map((e) => e.position),
        );
        expect(sub.events.map((e) => `${e.streamId.slice(-1)}${e.revision}`)).toEqual([
          'a0',
          'a1',
          'b0',
          'b1',
          'a2',
        ]);
      });

      it('starts after the given position, exclusively', async () => {
        await store.append(`${ns}-a`, [event('Opened'), event('Renamed'), event('Closed')], {
          expectedRevision: 'any',
        });
        const [first, ...rest] = await store.readAll(ours());
        const sub = consume(store, { ...ours(), after: first?.position });
        await sub.until(() => sub.events.length === 2, 'the two events after the first');
        await store.append(`${ns}-a`, [event('Reopened')], { expectedRevision: 2 });
        await sub.until(() => sub.events.length === 3, 'the live event');
        await sub.stop();
        expect(sub.events.slice(0, 2).map((e) => e.position)).toEqual(rest.map((e) => e.position));
      });

      it('honours event type and stream prefix filters, in catch-up and live', async () => {
        const wanted = `${ns}.Wanted`;
        await store.append(`${ns}-x`, [event(wanted), event('Other')], { expectedRevision: 'any' });
        await store.append(`${ns}-y`, [event(wanted)], { expectedRevision: 'any' });
        const byType = consume(store, { after: before, filter: { eventTypes: [wanted] } });
        const byPrefix = consume(store, { after: before, filter: { streamPrefixes: [`${ns}-y`] } });
        await byType.until(() => byType.events.length === 2, 'catch-up matches by type');
        await byPrefix.until(() => byPrefix.events.length === 1, 'catch-up matches by prefix');
        await store.append(`${ns}-x`, [event('Other'), event(wanted)], { expectedRevision: 'any' });
        await store.append(`${ns}-y`, [event('Other')], { expectedRevision: 'any' });
        await store.append(`${ns}-z`, [event(wanted)], { expectedRevision: 'any' });
        await byType.until(() => byType.events.length === 4, 'live matches by type');
        await byPrefix.until(() => byPrefix.events.length === 2, 'live matches by prefix');
        await Promise.all([byType.stop(), byPrefix.stop()]);
        expect(byType.events.map((e) => `${e.streamId.slice(-1)}${e.revision}`)).toEqual([
          'x0',
          'y0',
          'x3',
          'z0',
        ]);
        expect(byPrefix.events.map((e) => `${e.type.replace(ns, '')}`)).toEqual(['.Wanted', 'Other']);
      });

      it('has no gap and no duplicate while appends race the catch-up and the switch to live', async () => {
        const streams = [`${ns}-a`, `${ns}-b`, `${ns}-c`];
        for (let i = 0; i < 30; i++) {
          const batch = Array.from({ length: 40 }, () => event('Bulk'));
          await store.append(streams[i % 3]!, batch, { expectedRevision: 'any' });
        }
        const racing: Promise<unknown>[] = [];
        const fire = (count: number) => {
          for (let i = 0; i < count; i++) {
            const stream = streams[racing.length % 3]!;
            racing.push(store.append(stream, [event('Raced'), event('Raced')], { expectedRevision: 'any' }));
          }
        };
        let burst = false;
        const sub = consume(store, ours(), {
          // Appends fired from inside the consumer land while it is still catching up ...
          onEvent: (_, index) => {
            if (index < 1200 && index % 100 === 0) fire(1);
          },
          // ... and at its first checkpoint: the moment it has caught up, before it waits for live
          // events (EventStoreDB may send one earlier, every 32 events looked at).
          onCheckpoint: () => {
            if (!burst) fire(15);
            burst = true;
          },
        });
        // Past index 1199 no more appends are fired, so `racing` is complete.
        await sub.until(() => burst && sub.events.length >= 1200, 'the subscription to catch up');
        await Promise.all(racing);
        const expected = 1200 + racing.length * 2;
        await sub.until(() => sub.events.length >= expected, `${expected} events`);
        const sentinel = await store.append(`${ns}-sentinel`, [event('Sentinel')], {
          expectedRevision: 'no_stream',
        });
        await sub.until(() => sub.events.length >= expected + 1, 'the sentinel');
        await sub.stop();
        expect(sub.events).toHaveLength(expected + 1);
        expect(sub.events.at(-1)?.position).toBe(sentinel.position);
        expectIncreasing(sub.events.map((e) => e.position));
        const all = await store.readAll(ours());
        expect(sub.events.map((e) => e.metadata.eventId)).toEqual(all.map((e) => e.metadata.eventId));
      });

      it('aborting the signal ends the iteration', async () => {
        const sub = consume(store, ours());
        await store.append(`${ns}-a`, [event('Opened')], { expectedRevision: 'any' });
        await sub.until(() => sub.events.length === 1, 'the first event');
        await sub.stop(); // resolves only if the iteration ends
        await store.append(`${ns}-a`, [event('Renamed')], { expectedRevision: 'any' });
        expect(sub.events).toHaveLength(1);

        const aborted = AbortSignal.abort();
        const seen: RecordedEvent[] = [];
        for await (const e of store.subscribeToAll({ ...ours(), signal: aborted })) seen.push(e);
        expect(seen).toEqual([]);
      });

      it('reports a checkpoint at or after the last yielded event once caught up', async () => {
        const wanted = `${ns}.Wanted`;
        const m = await store.append(`${ns}-a`, [event(wanted)], { expectedRevision: 'any' });
        const sub = consume(store, { after: before, filter: { eventTypes: [wanted] } });
        await sub.until(
          () => sub.checkpoints().some((p) => p >= m.position),
          'a checkpoint covering the event',
        );
        await sub.stop();
        expect(sub.events.map((e) => e.position)).toEqual([m.position]);
        expectCheckpointsAfterEvents(sub.log, [m.position]);
      });

      it('moves a filtered checkpoint past events that do not match', async () => {
        const wanted = `${ns}.Wanted`;
        const m = await store.append(`${ns}-a`, [event(wanted)], { expectedRevision: 'any' });
        const others = Array.from({ length: 150 }, () => event('Unwanted'));
        await store.append(`${ns}-b`, others, { expectedRevision: 'any' });
        const sub = consume(store, { after: before, filter: { eventTypes: [wanted] } });
        await sub.until(() => sub.checkpoints().some((p) => p > m.position), 'a checkpoint past the event');
        await sub.stop();
        expect(sub.events.map((e) => e.position)).toEqual([m.position]);
        expectCheckpointsAfterEvents(sub.log, [m.position]);
      });

      it('never reports a checkpoint before yielding the matching events it covers', async () => {
        const wanted = `${ns}.Wanted`;
        const batch = () => [event('Unwanted'), event(wanted), event('Unwanted'), event('Unwanted')];
        for (let i = 0; i < 40; i++)
          await store.append(`${ns}-${i % 4}`, batch(), { expectedRevision: 'any' });
        const sub = consume(store, { after: before, filter: { eventTypes: [wanted] } });
        for (let i = 0; i < 20; i++)
          await store.append(`${ns}-${i % 4}`, batch(), { expectedRevision: 'any' });
        const matching = (await store.readAll({ after: before, filter: { eventTypes: [wanted] } })).map(
          (e) => e.position,
        );
        expect(matching).toHaveLength(60);
        await sub.until(
          () => sub.events.length === 60 && sub.checkpoints().some((p) => p >= matching[59]!),
          'all',
        );
        await sub.stop();
        expect(sub.events.map((e) => e.position)).toEqual(matching);
        expectCheckpointsAfterEvents(sub.log, matching);
      });

      it.runIf(options.freshStore)(
        'delivers the first append to a subscription on an empty store',
        async () => {
          const sub = consume(store, {});
          await new Promise((resolve) => setTimeout(resolve, 20));
          await store.append(`${ns}-a`, [event('Opened')], { expectedRevision: 'no_stream' });
          await sub.until(() => sub.events.length === 1, 'the first event');
          await sub.stop();
        },
      );
    });

    describe('concurrency', () => {
      it('a failing append does not affect appends made at the same moment', async () => {
        await store.append(`${ns}-b`, [event('Opened')], { expectedRevision: 'no_stream' });
        const [a, b, c] = await Promise.allSettled([
          store.append(`${ns}-a`, [event('Opened'), event('Renamed')], { expectedRevision: 'no_stream' }),
          store.append(`${ns}-b`, [event('Renamed'), event('Closed')], { expectedRevision: 7 }),
          store.append(`${ns}-c`, [event('Opened')], { expectedRevision: 'no_stream' }),
        ]);
        expect([a.status, b.status, c.status]).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect(b.status === 'rejected' && b.reason).toBeInstanceOf(WrongExpectedRevisionError);
        const all = await store.readAll(ours());
        expect(all.map((e) => `${e.streamId.slice(-1)}${e.revision}`).sort()).toEqual([
          'a0',
          'a1',
          'b0',
          'c0',
        ]);
      });

      it('of many appends with the same expected revision, exactly one wins', async () => {
        const stream = `${ns}-a`;
        const attempt = (expectedRevision: ExpectedRevision) =>
          Promise.allSettled(
            Array.from({ length: 20 }, () =>
              store.append(stream, [event('Raced'), event('Raced')], { expectedRevision }),
            ),
          );
        for (const [expectedRevision, length] of [['no_stream', 2] as const, [1, 4] as const]) {
          const results = await attempt(expectedRevision);
          expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
          for (const r of results) {
            if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(WrongExpectedRevisionError);
          }
          expect(await store.readStream(stream)).toHaveLength(length);
        }
      });
    });
  });
  eventStoreExpiryContract(name, create, options);
};

const event = (type: string, data: unknown = { at: Date.now() }, metadata?: EventMetadata): EventData => ({
  type,
  data,
  metadata: metadata ?? {
    eventId: randomUUID(),
    correlationId: randomUUID(),
    causationId: randomUUID(),
    occurredAt: new Date().toISOString(),
    schemaVersion: 1,
  },
});

const expectWrongRevision = async (
  append: Promise<unknown>,
  expected: Pick<WrongExpectedRevisionError, 'streamId' | 'expected' | 'actual'>,
) => {
  const error = await append.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WrongExpectedRevisionError);
  expect(error).toMatchObject(expected);
};

const expectIncreasing = (positions: Position[]) => {
  positions.slice(1).forEach((p, i) => {
    expect(p > positions[i]!, `position ${p} after ${positions[i]}`).toBe(true);
  });
};

type LogEntry = { kind: 'event' | 'checkpoint'; position: Position };

/** Each checkpoint comes after every matching event at or before it, and at or after every event before it. */
const expectCheckpointsAfterEvents = (log: LogEntry[], matching: Position[]) => {
  log.forEach((entry, index) => {
    if (entry.kind !== 'checkpoint') return;
    const yielded = new Set(log.slice(0, index).flatMap((e) => (e.kind === 'event' ? [e.position] : [])));
    for (const p of matching) {
      if (p <= entry.position)
        expect(yielded.has(p), `checkpoint ${entry.position} before event ${p}`).toBe(true);
    }
    for (const p of yielded)
      expect(entry.position >= p, `checkpoint ${entry.position} behind ${p}`).toBe(true);
  });
};

/** Iterates a subscription in the background, recording events and checkpoints in the order they came. */
const consume = (
  store: EventStore,
  options: Omit<SubscribeOptions, 'signal' | 'onCheckpoint'>,
  hooks: {
    onEvent?: (event: RecordedEvent, index: number) => void;
    onCheckpoint?: (p: Position) => void;
  } = {},
) => {
  const controller = new AbortController();
  const events: RecordedEvent[] = [];
  const log: LogEntry[] = [];
  const onCheckpoint = (position: Position) => {
    log.push({ kind: 'checkpoint', position });
    hooks.onCheckpoint?.(position);
  };
  const done = (async () => {
    for await (const event of store.subscribeToAll({ ...options, signal: controller.signal, onCheckpoint })) {
      events.push(event);
      log.push({ kind: 'event', position: event.position });
      hooks.onEvent?.(event, events.length - 1);
    }
  })();
  let failure: unknown;
  done.catch((error: unknown) => {
    failure = error;
  });
  return {
    events,
    log,
    checkpoints: () => {
      if (failure) throw failure;
      return log.flatMap((e) => (e.kind === 'checkpoint' ? [e.position] : []));
    },
    /** Waits until `ready` holds, failing at once if the subscription threw. */
    until: (ready: () => boolean, what: string) =>
      waitFor(() => {
        if (failure) throw failure;
        return ready();
      }, what),
    stop: async () => {
      controller.abort();
      await done;
    },
  };
};

/** Polls until `ready` holds; a hang guard with a message, not a timing assertion. */
const waitFor = async (ready: () => boolean, what: string, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};
