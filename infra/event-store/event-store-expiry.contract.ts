import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStoreContractOptions } from './event-store.contract.js';
import {
  CorruptEventError,
  type EventData,
  type EventStore,
  type Position,
  type RecordedEvent,
  WrongExpectedRevisionError,
} from './event-store.js';

const HOUR = 60 * 60 * 1000;

/**
 * The port's optional ways of letting data expire (expireStreams, setStreamMaxAge), pinned down.
 * Run by eventStoreContract, so every adapter runs it: an adapter either has a capability and
 * passes its tests, or names it in `without` with the reason, which is printed.
 */
export const eventStoreExpiryContract = (
  name: string,
  create: () => Promise<EventStore> | EventStore,
  options: EventStoreContractOptions,
): void => {
  for (const [capability, reason] of Object.entries(options.without ?? {}))
    console.warn(`skipped: the ${capability} tests of the event store contract on ${name}: ${reason}`);
  const has = (capability: 'expireStreams' | 'setStreamMaxAge') => !options.without?.[capability];

  describe(`event store contract: ${name}: expiry`, () => {
    let store: EventStore;
    let ns: string;
    let before: Position | undefined;
    const ours = () => ({ after: before, filter: { streamPrefixes: [ns] } });

    beforeEach(async () => {
      store = await create();
      ns = `expiry-${randomUUID()}`;
      before = await store.headPosition();
    });
    afterEach(async () => {
      await store.close();
    });

    it('has each capability it does not declare it is without', () => {
      expect(typeof store.expireStreams).toBe(has('expireStreams') ? 'function' : 'undefined');
      expect(typeof store.setStreamMaxAge).toBe(has('setStreamMaxAge') ? 'function' : 'undefined');
    });

    describe.runIf(has('expireStreams'))('expireStreams', () => {
      const expire = (prefix: string, olderThan: Date) =>
        (store.expireStreams as NonNullable<EventStore['expireStreams']>)(prefix, olderThan);
      const old = () => new Date(Date.now() - 2 * HOUR);
      const cutoff = () => new Date(Date.now() - HOUR);

      it('deletes whole streams under the prefix whose every event is older, and nothing else', async () => {
        await store.append(`${ns}-rec-a`, [event('Recorded', old()), event('Recorded', old())], {
          expectedRevision: 'no_stream',
        });
        await store.append(`${ns}-rec-b`, [event('Recorded', old()), event('Recorded')], {
          expectedRevision: 'no_stream',
        });
        await store.append(`${ns}-rec-c`, [event('Recorded')], { expectedRevision: 'no_stream' });
        await store.append(`${ns}-domain`, [event('Opened', old())], { expectedRevision: 'no_stream' });
        await store.append(`${ns}-rec-d`, [event('Recorded', old())], { expectedRevision: 'no_stream' });
        await store.append(`${ns}-tail`, [event('Opened')], { expectedRevision: 'no_stream' });
        const all = await store.readAll(ours());
        const head = await store.headPosition();

        expect(await expire(`${ns}-rec-`, cutoff())).toBe(2);

        expect(await store.readStream(`${ns}-rec-a`)).toEqual([]);
        expect(await store.readStream(`${ns}-rec-d`)).toEqual([]);
        const kept = all.filter((e) => e.streamId !== `${ns}-rec-a` && e.streamId !== `${ns}-rec-d`);
        expect(await store.readAll(ours())).toEqual(kept);
        expect(await collect(store, ours(), kept.length)).toEqual(kept);
        for (const stream of ['rec-b', 'rec-c', 'domain', 'tail'].map((s) => `${ns}-${s}`))
          expect(await store.readStream(stream)).toEqual(kept.filter((e) => e.streamId === stream));
        expect(await store.headPosition()).toBe(head);
        // Nothing else is expired on a second pass.
        expect(await expire(`${ns}-rec-`, cutoff())).toBe(0);
      });

      it('lets an expired stream begin again at revision 0, at a position after every earlier one', async () => {
        await store.append(`${ns}-rec`, [event('Recorded', old())], { expectedRevision: 'no_stream' });
        const { position: head } = await store.append(`${ns}-tail`, [event('Opened')], {
          expectedRevision: 'no_stream',
        });
        expect(await expire(`${ns}-rec`, cutoff())).toBe(1);
        const again = await store.append(`${ns}-rec`, [event('Recorded')], { expectedRevision: 'no_stream' });
        expect(again.nextRevision).toBe(0);
        expect(again.position > head).toBe(true);
        expect(
          (await store.readAll(ours())).map((e) => `${e.streamId.slice(ns.length)}@${e.revision}`),
        ).toEqual(['-tail@0', '-rec@0']);
      });

      it.runIf(options.freshStore)(
        "keeps the stream that holds the log's last event until something follows it",
        async () => {
          const { position } = await store.append(`${ns}-rec`, [event('Recorded', old())], {
            expectedRevision: 'no_stream',
          });
          expect(await expire(`${ns}-rec`, cutoff())).toBe(0);
          expect(await store.readStream(`${ns}-rec`)).toHaveLength(1);
          expect(await store.headPosition()).toBe(position);
          await store.append(`${ns}-tail`, [event('Opened')], { expectedRevision: 'no_stream' });
          expect(await expire(`${ns}-rec`, cutoff())).toBe(1);
          expect(await store.readStream(`${ns}-rec`)).toEqual([]);
        },
      );

      it('keeps a stream with an event whose time cannot be read', async () => {
        const unreadable = event('Recorded');
        unreadable.metadata.occurredAt = 'yesterday';
        await store.append(`${ns}-rec`, [event('Recorded', old()), unreadable], {
          expectedRevision: 'no_stream',
        });
        await store.append(`${ns}-tail`, [event('Opened')], { expectedRevision: 'no_stream' });
        expect(await expire(`${ns}-rec`, cutoff())).toBe(0);
        expect(await store.readStream(`${ns}-rec`)).toHaveLength(2);
      });

      it.runIf(options.damage)(
        'keeps a stream with a damaged event, which still reads as damaged',
        async () => {
          await store.append(`${ns}-rec`, [event('Recorded', old(), { n: 9 })], {
            expectedRevision: 'no_stream',
          });
          await store.append(`${ns}-tail`, [event('Opened')], { expectedRevision: 'no_stream' });
          await options.damage?.(store, `${ns}-rec`, 0);
          expect(await expire(`${ns}-rec`, cutoff())).toBe(0);
          await expect(store.readStream(`${ns}-rec`)).rejects.toBeInstanceOf(CorruptEventError);
        },
      );

      it('refuses an empty prefix', async () => {
        await expect(expire('', cutoff())).rejects.toThrow();
      });
    });

    describe.runIf(has('setStreamMaxAge'))('setStreamMaxAge', () => {
      const setMaxAge = (streamId: string, maxAgeMs: number) =>
        (store.setStreamMaxAge as NonNullable<EventStore['setStreamMaxAge']>)(streamId, maxAgeMs);

      it('leaves the stream readable and appendable, and adds no event of ours', async () => {
        await setMaxAge(`${ns}-a`, HOUR);
        const { position } = await store.append(`${ns}-a`, [event('Recorded')], {
          expectedRevision: 'no_stream',
        });
        await setMaxAge(`${ns}-a`, HOUR);
        expect((await store.readStream(`${ns}-a`)).map((e) => e.revision)).toEqual([0]);
        const all = await store.readAll(ours());
        expect(all.map((e) => e.position)).toEqual([position]);
        expect(await collect(store, ours(), 1)).toEqual(all);
        if (options.freshStore) expect(await store.headPosition()).toBe(position);
      });

      if (has('setStreamMaxAge') && !options.advanceClock)
        console.warn(
          `skipped: the $maxAge expiry test of the event store contract on ${name}: no clock to move on`,
        );
      it.runIf(options.advanceClock)(
        'leaves events past the age out of stream reads; the stream keeps its revisions',
        async () => {
          await setMaxAge(`${ns}-a`, 10_000);
          await store.append(`${ns}-a`, [event('Recorded')], { expectedRevision: 'no_stream' });
          await store.append(`${ns}-b`, [event('Recorded')], { expectedRevision: 'no_stream' });
          await options.advanceClock?.(store, 11_000);
          expect(await store.readStream(`${ns}-a`)).toEqual([]);
          expect(await store.readStream(`${ns}-b`)).toHaveLength(1);
          // Still at revision 0: a new event follows it, as an append expecting that revision.
          const wrong = await store
            .append(`${ns}-a`, [event('Recorded')], { expectedRevision: 'no_stream' })
            .catch((error: unknown) => error);
          expect(wrong).toBeInstanceOf(WrongExpectedRevisionError);
          expect(wrong).toMatchObject({ actual: 0 });
          await store.append(`${ns}-a`, [event('Recorded')], { expectedRevision: 0 });
          expect((await store.readStream(`${ns}-a`)).map((e) => e.revision)).toEqual([1]);
        },
      );
    });
  });
};

const event = (type: string, occurredAt = new Date(), data: unknown = { type }): EventData => ({
  type,
  data,
  metadata: {
    eventId: randomUUID(),
    correlationId: randomUUID(),
    causationId: randomUUID(),
    occurredAt: occurredAt.toISOString(),
    schemaVersion: 1,
  },
});

/** The first `count` events of a subscription, then it is ended. */
const collect = async (
  store: EventStore,
  options: { after: Position | undefined; filter: { streamPrefixes: string[] } },
  count: number,
): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  if (count === 0) return events;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 10_000);
  try {
    for await (const event of store.subscribeToAll({ ...options, signal: controller.signal })) {
      events.push(event);
      if (events.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return events;
};
