import { expect, it, vi } from 'vitest';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import type { ReadStore } from '../../infra/read-store/read-store.js';
import { checkpointStore } from './checkpoint-store.js';
import { createCheckpointWatch } from './checkpoint-watch.js';
import { leaseStore } from './lease.js';
import type { Projection } from './projection.js';
import { allDocs, startTestProjector, TEST_LEASE_TTL_MS } from './testing/harness.js';
import { describeOnEachReadStore } from './testing/read-stores.js';
import { eventData, testTime } from './testing/recorded-events.js';

/**
 * Counts every event it is given with an unguarded $inc: applied twice, an event counts twice. So
 * the count tells whether two projectors ever applied the same events.
 */
const tally: Projection = {
  name: 'tally',
  eventTypes: ['Ticked'],
  collections: [{ name: 'tally' }],
  handle: () => ({
    tally: [{ updateOne: { filter: { _id: 'count' }, update: { $inc: { n: 1 } }, upsert: true } }],
  }),
};

const tick = async (eventStore: ReturnType<typeof createMemoryEventStore>, n: number) => {
  for (let i = 0; i < n; i++)
    await eventStore.append('clock', [eventData('Ticked', { i }, testTime(i))], { expectedRevision: 'any' });
};

const count = async (readStore: ReadStore) => (await allDocs(readStore, 'tally'))[0]?.n;

describeOnEachReadStore('lease', (fresh, kind) => {
  it('lets one of two projectors apply; the other takes over, exactly where it stopped', async () => {
    const eventStore = createMemoryEventStore();
    const readStore = await fresh();
    const watch = createCheckpointWatch();
    await tick(eventStore, 100);
    // A lease long enough that a stalled test machine cannot make it lapse: the unguarded count
    // would then show the replay that follows a lapse, which guarded projections absorb.
    const leaseTtlMs = 2_000;
    const one = startTestProjector({
      projection: tally,
      eventStore,
      readStore,
      watch,
      instance: 'one',
      leaseTtlMs,
    });
    const two = startTestProjector({
      projection: tally,
      eventStore,
      readStore,
      watch,
      instance: 'two',
      leaseTtlMs,
    });
    try {
      await one.caughtUp();
      expect(await count(readStore)).toBe(100);
      expect([one.leading(), two.leading()].filter(Boolean)).toHaveLength(1);

      const [leader, standby] = one.leading() ? [one, two] : [two, one];
      await leader.stop();
      await tick(eventStore, 50);
      await standby.caughtUp();
      expect(standby.leading()).toBe(true);
      expect(await count(readStore)).toBe(150);
      expect((await readStore.collection('projection_leases').findOne({ _id: 'tally' }))?.owner).toBe(
        one.leading() ? 'one' : 'two',
      );
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
  });

  it('a projector that loses its lease stops applying, and reads the checkpoint again when it gets it back', async () => {
    const eventStore = createMemoryEventStore();
    const readStore = await fresh();
    await tick(eventStore, 10);
    const projector = startTestProjector({ projection: tally, eventStore, readStore, instance: 'projector' });
    try {
      await projector.caughtUp();

      // Another instance reserves the lease: the holder gives it up at its next renewal.
      const leases = leaseStore(readStore);
      await leases.reserve('tally', 'intruder', 60_000);
      await vi.waitFor(() => expect(projector.leading()).toBe(false), { timeout: 5_000 });
      let epoch: number | undefined;
      await vi.waitFor(
        async () => {
          epoch = await leases.acquire('tally', 'intruder', 60_000);
          expect(epoch).toBeDefined();
        },
        { timeout: 5_000, interval: 20 },
      );

      // While the intruder holds it, it applies five events by hand and commits their checkpoint.
      await tick(eventStore, 5);
      await readStore
        .collection('tally')
        .bulkWrite([{ updateOne: { filter: { _id: 'count' }, update: { $inc: { n: 5 } } } }]);
      const head = (await eventStore.headPosition())!;
      expect(await checkpointStore(readStore).write('tally', head, epoch!, new Date())).toBe(true);
      expect(projector.leading()).toBe(false);
      await leases.release('tally', 'intruder', epoch!);

      // Back with the projector: it goes on from the intruder's checkpoint, not from its own.
      await tick(eventStore, 3);
      await projector.caughtUp();
      expect(await count(readStore)).toBe(18);
    } finally {
      await projector.stop();
    }
  });

  it('fences checkpoint writes of an earlier lease epoch', async () => {
    const readStore = await fresh();
    const checkpoints = checkpointStore(readStore);
    expect(await checkpoints.write('p', 10n, 2, new Date())).toBe(true);
    expect(await checkpoints.write('p', 20n, 1, new Date())).toBe(false);
    expect(await checkpoints.read('p')).toBe(10n);
    expect(await checkpoints.write('p', 30n, 3, new Date())).toBe(true);
    expect(await checkpoints.read('p')).toBe(30n);
  });

  it('grants an unexpired lease to no one else, and an expired one to the next who asks', async () => {
    let now = Date.UTC(2026, 0, 1);
    const leases = leaseStore(await fresh(), { now: () => new Date(now) });
    expect(await leases.acquire('p', 'a', TEST_LEASE_TTL_MS)).toBe(1);
    expect(await leases.acquire('p', 'b', TEST_LEASE_TTL_MS)).toBeUndefined();
    expect(await leases.renew('p', 'a', 1, TEST_LEASE_TTL_MS)).toBe(true);
    now += TEST_LEASE_TTL_MS + 1;
    expect(await leases.acquire('p', 'b', TEST_LEASE_TTL_MS)).toBe(2);
    expect(await leases.renew('p', 'a', 1, TEST_LEASE_TTL_MS)).toBe(false);
    // A reservation holds the lease for its owner even after it expires, until the reservation ends.
    await leases.reserve('p', 'c', 10 * TEST_LEASE_TTL_MS);
    expect(await leases.renew('p', 'b', 2, TEST_LEASE_TTL_MS)).toBe(false);
    now += TEST_LEASE_TTL_MS + 1;
    expect(await leases.acquire('p', 'b', TEST_LEASE_TTL_MS)).toBeUndefined();
    expect(await leases.acquire('p', 'c', TEST_LEASE_TTL_MS)).toBe(3);
  });

  // The embedded store's clock is the process's own: there is nothing to disagree with.
  if (kind === 'embedded')
    console.warn("skipped: lease on the embedded store, store's clock: it is the process's own clock");
  it.skipIf(kind === 'embedded')(
    "takes times from the store's clock: an instance whose clock runs an hour ahead takes no unexpired lease",
    async () => {
      const leases = leaseStore(await fresh());
      expect(await leases.acquire('p', 'a', 60_000)).toBe(1);
      const expiresAt = Date.parse((await leases.read('p'))!.expiresAt);
      expect(Math.abs(expiresAt - (Date.now() + 60_000))).toBeLessThan(5_000);

      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(Date.now() + 3_600_000);
        expect(await leases.acquire('p', 'b', 60_000)).toBeUndefined();
        expect(await leases.renew('p', 'a', 1, 60_000)).toBe(true);
      } finally {
        vi.useRealTimers();
      }
      expect((await leases.read('p'))?.owner).toBe('a');
    },
  );
});
