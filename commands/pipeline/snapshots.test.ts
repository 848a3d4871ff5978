import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { Aggregate } from '../../domain/shared/decider.js';
import {
  type CounterCommand,
  type CounterEvent,
  type CounterState,
  counterAggregate,
} from '../../domain/shared/testing/counter.js';
import type { EventStore } from '../../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { createMemorySnapshotStore } from '../../infra/event-store/memory-snapshot-store.js';
import { CorruptSnapshotError, type SnapshotStore } from '../../infra/event-store/snapshot-store.js';
import { type CommandHandler, createCommandHandler, IdempotencyKeyReusedError } from './handle-command.js';
import { snapshotVersion } from './snapshot-version.js';
import { countingReads } from './testing/counting-store.js';

/**
 * Snapshots in the pipeline, on the engines' counter: a cold command reads the snapshot and the
 * events after it; a repeated command whose key is on an event before the snapshot is still found;
 * a snapshot that is damaged, of another history or of another version is read around, and a
 * command never decides on it.
 */
const CounterStateSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('none') }),
  z.object({
    status: z.enum(['open', 'closed']),
    owner: z.string(),
    total: z.number().int().nonnegative(),
  }),
]) satisfies z.ZodType<CounterState>;

type Counter = Aggregate<CounterCommand, CounterEvent, CounterState>;
const snapshotted = (every = 10, version = 1): Counter => ({
  ...counterAggregate,
  snapshot: { every, version, schema: CounterStateSchema },
});
const counter = snapshotted();
const STREAM = 'counter-ada';

type Key = { key: string; requestHash: string };
const context = (idempotency?: Key) => ({
  correlationId: 'c',
  causationId: 'c',
  ...(idempotency && { idempotency }),
});
const open = (handle: CommandHandler, aggregate = counter) =>
  handle(aggregate, 'ada', { type: 'OpenCounter', counterId: 'ada', owner: 'Ada' }, context());
const increment = (handle: CommandHandler, amount: number, key?: Key, aggregate = counter) =>
  handle(aggregate, 'ada', { type: 'Increment', counterId: 'ada', amount }, context(key));
const decrement = (handle: CommandHandler, amount: number, aggregate = counter) =>
  handle(aggregate, 'ada', { type: 'Decrement', counterId: 'ada', amount }, context());

/** A handler with snapshots and no state cache, so every command starts cold (as after a restart). */
const coldHandler = (eventStore: EventStore, store: SnapshotStore, onError = vi.fn()) =>
  createCommandHandler({
    eventStore,
    maxRetries: 3,
    backoffMs: 1,
    stateCacheSize: 0,
    snapshots: { store, onError },
  });

/** Opens the counter and increments it `count` times by 1, with snapshots every 10 events. */
const written = async (count: number, { keyAt }: { keyAt?: number } = {}) => {
  const eventStore = createMemoryEventStore();
  const snapshots = createMemorySnapshotStore();
  const handle = createCommandHandler({ eventStore, maxRetries: 3, snapshots: { store: snapshots } });
  await open(handle);
  for (let i = 1; i <= count; i++) await increment(handle, 1, i === keyAt ? stepKey : undefined);
  return { eventStore, snapshots };
};
const stepKey: Key = { key: 'transfer:t-1:deposit', requestHash: 'h-1' };

const snapshotAt = async (store: SnapshotStore, revision: number) =>
  vi.waitFor(async () => expect((await store.load(STREAM))?.revision).toBe(revision));

const totalAt = async (store: EventStore, revision: number) =>
  ((await store.readStream(STREAM, { fromRevision: revision }))[0]?.data as { total?: number } | undefined)
    ?.total;

describe('snapshots in the command pipeline', () => {
  it('are stored every `every` events, and a cold command reads only the events after the last', async () => {
    const { eventStore, snapshots } = await written(255);
    await snapshotAt(snapshots, 249);
    const counted = countingReads(eventStore);
    const handle = coldHandler(counted.store, snapshots);

    const result = await increment(handle, 1);
    expect(result.revision).toBe(256);
    expect(await totalAt(eventStore, 256)).toBe(256);
    // The snapshot's own event (to check it is still there) and the six after it.
    expect(counted.take()).toEqual([{ streamId: STREAM, fromRevision: 249, events: 7 }]);

    // Without snapshots the same command reads the stream whole.
    const without = countingReads(eventStore);
    await increment(createCommandHandler({ eventStore: without.store, maxRetries: 3, stateCacheSize: 0 }), 1);
    expect(without.take()).toEqual([{ streamId: STREAM, fromRevision: 0, events: 257 }]);
  });

  it('a long stream without one gets one from its first command, at the revision it read', async () => {
    const eventStore = createMemoryEventStore();
    const plain = createCommandHandler({ eventStore, maxRetries: 3 });
    await open(plain, counterAggregate);
    for (let i = 0; i < 40; i++) await increment(plain, 1, undefined, counterAggregate);
    const snapshots = createMemorySnapshotStore();
    await increment(coldHandler(eventStore, snapshots), 1);
    await snapshotAt(snapshots, 40);
  });

  it("a snapshot at the stream's last event: nothing after it to read, and the state is right", async () => {
    const { eventStore, snapshots } = await written(19);
    await snapshotAt(snapshots, 19);
    const handle = coldHandler(eventStore, snapshots);
    await expect(decrement(handle, 20)).rejects.toMatchObject({ code: 'below_zero' });
    expect((await decrement(handle, 19)).revision).toBe(20);
  });

  describe('idempotency keys before the snapshot', () => {
    it('a step key on an event before the snapshot is found: the repeat appends nothing', async () => {
      const { eventStore, snapshots } = await written(35, { keyAt: 3 });
      await snapshotAt(snapshots, 29);
      const counted = countingReads(eventStore);
      const handle = coldHandler(counted.store, snapshots);

      const repeat = await increment(handle, 1, stepKey);
      expect(repeat).toMatchObject({ revision: 3, replayed: true });
      expect(await eventStore.readStream(STREAM, { fromRevision: 36 })).toEqual([]);
      // The filter said "perhaps": the stream was read whole to find the key's event.
      expect(counted.take().some((read) => read.fromRevision === 0)).toBe(true);
      await expect(increment(handle, 1, { ...stepKey, requestHash: 'other' })).rejects.toBeInstanceOf(
        IdempotencyKeyReusedError,
      );
    });

    it('a new key is decided on the snapshot and the events after it, without reading the stream whole', async () => {
      const { eventStore, snapshots } = await written(35, { keyAt: 3 });
      await snapshotAt(snapshots, 29);
      const counted = countingReads(eventStore);
      const result = await increment(coldHandler(counted.store, snapshots), 1, {
        key: 'transfer:t-2:deposit',
        requestHash: 'h-2',
      });
      expect(result).toMatchObject({ revision: 36, replayed: false });
      expect(counted.take()).toEqual([{ streamId: STREAM, fromRevision: 29, events: 7 }]);
    });

    it('keys carried over from one snapshot to the next are still found', async () => {
      // Key at revision 3, in the first snapshot's filter (9); later snapshots built from a cold
      // start (filter + keys since) must keep it.
      const { eventStore, snapshots } = await written(12, { keyAt: 3 });
      await snapshotAt(snapshots, 9);
      const handle = coldHandler(eventStore, snapshots);
      for (let i = 0; i < 30; i++) await increment(handle, 1);
      await vi.waitFor(async () =>
        expect((await snapshots.load(STREAM))?.revision).toBeGreaterThanOrEqual(39),
      );
      expect(await increment(handle, 1, stepKey)).toMatchObject({ revision: 3, replayed: true });
    });
  });

  describe('a snapshot not fit to use is read around', () => {
    it('damaged (its checksum): the stream is read whole, the command decides right, the error is told', async () => {
      const { eventStore, snapshots } = await written(25);
      await snapshotAt(snapshots, 19);
      snapshots.damage(STREAM);
      const onError = vi.fn();
      const counted = countingReads(eventStore);
      expect((await decrement(coldHandler(counted.store, snapshots, onError), 25)).revision).toBe(26);
      expect(await totalAt(eventStore, 26)).toBe(0);
      expect(counted.take()[0]).toMatchObject({ fromRevision: 0, events: 26 });
      expect(onError).toHaveBeenCalledWith(expect.any(CorruptSnapshotError), STREAM);
    });

    it('a state its schema refuses (checksum intact): read whole', async () => {
      const { eventStore, snapshots } = await written(25);
      await snapshotAt(snapshots, 19);
      const stored = await snapshots.load(STREAM);
      const data = stored?.data as { state: object };
      await snapshots.save({
        ...stored!,
        data: { ...data, state: { status: 'open', owner: 'Ada', total: -5 } },
      });
      const onError = vi.fn();
      expect((await decrement(coldHandler(eventStore, snapshots, onError), 25)).revision).toBe(26);
      expect(onError).toHaveBeenCalledOnce();
    });

    it('of another history of the stream (a restored store): never decided on', async () => {
      // History 1: forty increments of 5 (total 200), snapshot at revision 39.
      const snapshots = createMemorySnapshotStore();
      const first = createMemoryEventStore();
      const handle = createCommandHandler({
        eventStore: first,
        maxRetries: 3,
        snapshots: { store: snapshots },
      });
      await open(handle);
      for (let i = 0; i < 39; i++) await increment(handle, 5);
      await snapshotAt(snapshots, 39);
      // History 2 under the same stream id, as long: thirty-nine increments of 1 (total 39).
      const second = createMemoryEventStore();
      const other = createCommandHandler({ eventStore: second, maxRetries: 3 });
      await open(other, counterAggregate);
      for (let i = 0; i < 39; i++) await increment(other, 1, undefined, counterAggregate);

      // On the snapshot's total (195) this would go through; on the stream's (39) it is refused.
      await expect(decrement(coldHandler(second, snapshots), 100)).rejects.toMatchObject({
        code: 'below_zero',
      });
      expect((await decrement(coldHandler(second, snapshots), 39)).revision).toBe(40);
    });

    it('a stream shorter than the snapshot (restored from an older backup): read whole', async () => {
      const { snapshots } = await written(25);
      await snapshotAt(snapshots, 19);
      const restored = createMemoryEventStore();
      await open(createCommandHandler({ eventStore: restored, maxRetries: 3 }), counterAggregate);
      await expect(decrement(coldHandler(restored, snapshots), 1)).rejects.toMatchObject({
        code: 'below_zero',
      });
    });

    it('of another version (evolve or the state changed): ignored, and replaced by one of the new version', async () => {
      const { eventStore, snapshots } = await written(25);
      await snapshotAt(snapshots, 19);
      const before = (await snapshots.load(STREAM))?.version;
      const v2 = snapshotted(10, 2);
      const counted = countingReads(eventStore);
      await increment(coldHandler(counted.store, snapshots), 1, undefined, v2);
      expect(counted.take()[0]).toMatchObject({ fromRevision: 0 });
      await vi.waitFor(async () => expect((await snapshots.load(STREAM))?.version).not.toBe(before));
      expect((await snapshots.load(STREAM))?.revision).toBe(25);
    });

    it('the store away: the command goes on without it', async () => {
      const { eventStore, snapshots } = await written(25);
      const away: SnapshotStore = {
        load: () => Promise.reject(new Error('connection refused')),
        save: () => Promise.reject(new Error('connection refused')),
        close: async () => {},
      };
      const onError = vi.fn();
      expect((await increment(coldHandler(eventStore, away, onError), 1)).revision).toBe(26);
      await vi.waitFor(() => expect(onError).toHaveBeenCalledTimes(2));
      expect((await snapshots.load(STREAM))?.revision).toBe(19);
    });
  });

  it('a state that does not come back the same from JSON is not stored', async () => {
    const eventStore = createMemoryEventStore();
    const snapshots = createMemorySnapshotStore();
    const onError = vi.fn();
    // A schema that turns the owner's name to upper case: what would be loaded is not what was folded.
    const lossy: Counter = {
      ...counterAggregate,
      snapshot: {
        every: 2,
        version: 1,
        schema: CounterStateSchema.transform((s) =>
          'owner' in s ? { ...s, owner: s.owner.toUpperCase() } : s,
        ),
      },
    };
    const handle = createCommandHandler({
      eventStore,
      maxRetries: 3,
      snapshots: { store: snapshots, onError },
    });
    await open(handle, lossy);
    for (let i = 0; i < 5; i++) await increment(handle, 1, undefined, lossy);
    expect(await snapshots.load(STREAM)).toBeUndefined();
    expect(onError).toHaveBeenCalled();
  });

  it('a handler without snapshot options neither stores nor loads any', async () => {
    const { eventStore, snapshots } = await written(25);
    await snapshotAt(snapshots, 19);
    const counted = countingReads(eventStore);
    await increment(
      createCommandHandler({ eventStore: counted.store, maxRetries: 3, stateCacheSize: 0 }),
      1,
      undefined,
    );
    expect(counted.take()[0]).toMatchObject({ fromRevision: 0 });
    expect((await snapshots.load(STREAM))?.revision).toBe(19);
  });
});

describe('snapshotVersion', () => {
  it('changes with the state schema, with evolve, and with the manual version; not otherwise', () => {
    const policy = { every: 10, version: 1, schema: CounterStateSchema };
    const base = snapshotVersion(counterAggregate, policy);
    expect(snapshotVersion(counterAggregate, { ...policy })).toBe(base);
    expect(snapshotVersion(counterAggregate, { ...policy, version: 2 })).not.toBe(base);
    const wider = CounterStateSchema.or(z.object({ status: z.literal('frozen') }));
    expect(snapshotVersion(counterAggregate, { ...policy, schema: wider as never })).not.toBe(base);
    const evolve = (state: CounterState) => state;
    const decider = { ...counterAggregate.decider, evolve };
    expect(snapshotVersion({ decider }, policy)).not.toBe(base);
  });
});
