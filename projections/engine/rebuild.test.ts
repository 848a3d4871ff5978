import { expect, it } from 'vitest';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { createEmbeddedReadStore } from '../../infra/read-store/embedded-read-store.js';
import { checkpointStore } from './checkpoint-store.js';
import { parkedEvents } from './parked-events.js';
import type { Projection } from './projection.js';
import { type RebuildProgress, rebuildProjection } from './rebuild.js';
import { countersProjection } from './testing/fixture-projection.js';
import { counterCommands, silentLogger, startTestProjector, testTuning } from './testing/harness.js';
import { applyEvents, readModel } from './testing/projection-spec.js';
import { describeOnEachReadStore } from './testing/read-stores.js';

// The rebuild renews its lease every third of this; on a loaded machine against FerretDB a 300 ms
// lease was lost between two renewals (LeaseLostError). It releases the lease when it is done, so a
// longer one delays nobody.
const REBUILD_LEASE_TTL_MS = 3_000;

/** A fixed sequence of counter activity (some commands are refused, as in life). */
const activity = async (commands: ReturnType<typeof counterCommands>, steps: number, seed: number) => {
  let state = seed;
  const next = (n: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % n;
  };
  for (let i = 0; i < steps; i++) {
    const id = `ctr-${next(12)}`;
    const run = [
      () => commands.open(id, `owner-${next(3)}`),
      () => commands.increment(id, 1 + next(1_000), `ref-${i}`),
      () => commands.decrement(id, 1 + next(300)),
      () => commands.close(id),
    ][[0, 1, 1, 1, 2, 2, 3][next(7)] as number] as () => Promise<unknown>;
    await run().catch(() => {}); // a refused command appends nothing
  }
};

const incrementalModel = async (
  eventStore: ReturnType<typeof createMemoryEventStore>,
  projection: Projection,
) => {
  const readStore = createEmbeddedReadStore();
  await applyEvents(
    readStore,
    projection,
    await eventStore.readAll({ filter: { eventTypes: projection.eventTypes } }),
  );
  return readModel(readStore, projection);
};

describeOnEachReadStore('rebuildProjection', (fresh) => {
  it('rebuilds into fresh collections while appends go on, swaps them in, and hands back to the live projector', async () => {
    const eventStore = createMemoryEventStore();
    const readStore = await fresh();
    const commands = counterCommands(eventStore);
    const projection = countersProjection();
    await activity(commands, 300, 7);

    const live = startTestProjector({ projection, eventStore, readStore });
    try {
      await live.caughtUp();
      // What a rebuild is for: the live model went wrong (a bug, a hand edit) and replays cannot fix it.
      await readStore
        .collection('counters')
        .bulkWrite([{ updateOne: { filter: { _id: 'ctr-0' }, update: { $set: { total: -1 } } } }]);
      await parkedEvents(readStore).write([
        {
          insertOne: {
            document: {
              _id: 'counters:1',
              projection: 'counters',
              parkedBy: 'an earlier run',
              event: { position: '1' },
            },
          },
        },
      ]);

      const progress: RebuildProgress[] = [];
      // The appends start once the rebuild is catching up: after it read the head it catches up
      // to, which on a store over the network comes later than a memory log takes for 100 commands.
      let startAppends = () => {};
      const catchingUp = new Promise<void>((resolve) => {
        startAppends = resolve;
      });
      const [result] = await Promise.all([
        rebuildProjection({
          projection,
          eventStore,
          readStore,
          logger: silentLogger,
          tuning: testTuning,
          leaseTtlMs: REBUILD_LEASE_TTL_MS,
          onProgress: (p) => {
            progress.push(p);
            startAppends();
          },
        }),
        catchingUp.then(() => activity(commands, 100, 11)),
      ]);

      expect(result.checkpoint).toBeDefined();
      expect(await checkpointStore(readStore).read('counters')).toBeGreaterThanOrEqual(result.checkpoint!);
      expect(progress.map((p) => p.phase)).toContain('catching-up');
      expect(progress.at(-1)).toMatchObject({ phase: 'finishing', position: result.checkpoint });
      expect(await readStore.collection('counters__rebuild').countDocuments()).toBe(0);
      expect(await parkedEvents(readStore).list()).toEqual([]);

      // The live projector takes the lease back and goes on from the rebuild's checkpoint.
      await activity(commands, 50, 13);
      await live.caughtUp();
      expect(live.leading()).toBe(true);
      const model = await readModel(readStore, projection);
      expect(model).toEqual(await incrementalModel(eventStore, projection));
      expect(model.counters?.find((doc) => doc._id === 'ctr-0')?.total).not.toBe(-1);
    } finally {
      await live.stop();
    }
  });

  it('rebuilds an empty log into an empty model, replacing what was there', async () => {
    const eventStore = createMemoryEventStore();
    const readStore = await fresh();
    await readStore.collection('counters').bulkWrite([{ insertOne: { document: { _id: 'stale' } } }]);
    const result = await rebuildProjection({
      projection: countersProjection(),
      eventStore,
      readStore,
      logger: silentLogger,
      tuning: testTuning,
      leaseTtlMs: REBUILD_LEASE_TTL_MS,
    });
    expect(result).toMatchObject({ checkpoint: undefined, eventsProjected: 0 });
    expect(await readStore.collection('counters').countDocuments()).toBe(0);
  });
});
