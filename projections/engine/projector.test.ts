import { expect, it, vi } from 'vitest';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { createEmbeddedReadStore } from '../../infra/read-store/embedded-read-store.js';
import { CHECKPOINTS, checkpointStore } from './checkpoint-store.js';
import type { Projection } from './projection.js';
import { counterChangesProjection, countersProjection } from './testing/fixture-projection.js';
import { allDocs, counterCommands, counting, startTestProjector, testTuning } from './testing/harness.js';
import { applyEvents, readModel } from './testing/projection-spec.js';
import { describeOnEachReadStore } from './testing/read-stores.js';
import { eventData, testTime } from './testing/recorded-events.js';

/** The model built straight from the log, one event at a time: what the projector must arrive at. */
const expectedModel = async (
  eventStore: ReturnType<typeof createMemoryEventStore>,
  projection: Projection,
) => {
  const readStore = createEmbeddedReadStore();
  const events = await eventStore.readAll({ filter: { eventTypes: projection.eventTypes } });
  await applyEvents(readStore, projection, events);
  return readModel(readStore, projection);
};

describeOnEachReadStore('projector', (fresh) => {
  const setup = async () => {
    const eventStore = createMemoryEventStore();
    const readStore = await fresh();
    return { eventStore, readStore, commands: counterCommands(eventStore) };
  };

  it('projects the log in batches, then commits the checkpoint as a decimal string', async () => {
    const { eventStore, readStore, commands } = await setup();
    for (let i = 0; i < 30; i++) await commands.open(`ctr-${i}`, `owner-${i % 3}`);
    for (let i = 0; i < 30; i++) await commands.increment(`ctr-${i}`, 100 + i);
    const { position } = await commands.decrement('ctr-0', 50);

    const projector = startTestProjector({ projection: countersProjection(), eventStore, readStore });
    try {
      expect(await projector.watch.waitFor('counters', position, { timeoutMs: 10_000 })).toBe(true);
      expect(await readModel(readStore, countersProjection())).toEqual(
        await expectedModel(eventStore, countersProjection()),
      );
      expect(await readStore.collection(CHECKPOINTS).findOne({ _id: 'counters' })).toMatchObject({
        position: String(position),
      });
      const stats = await projector.stats();
      expect(stats).toMatchObject({
        projection: 'counters',
        leading: true,
        checkpoint: String(position),
        head: String(position),
        lag: { events: 0, atLeast: false },
        eventsProjected: 61,
        parked: 0,
        parkedWaiting: 0,
      });
      expect(stats.batches).toBeGreaterThanOrEqual(Math.ceil(61 / testTuning.batchSize));
      expect(stats.eventsPerSecond).toBeGreaterThan(0);
    } finally {
      await projector.stop();
    }
  });

  it('keeps projecting what is appended while it runs (catch-up, then live)', async () => {
    const { eventStore, readStore, commands } = await setup();
    await commands.open('a');
    const projector = startTestProjector({
      projection: counterChangesProjection(),
      eventStore,
      readStore,
    });
    try {
      await projector.caughtUp();
      for (let i = 1; i <= 25; i++) await commands.increment('a', i, i % 2 === 0 ? `ref-${i}` : undefined);
      await projector.caughtUp();
      expect(await allDocs(readStore, 'counter_changes')).toHaveLength(25);
      // Field for field, `note: null` included, as the log gives it one event at a time.
      expect(await readModel(readStore, counterChangesProjection())).toEqual(
        await expectedModel(eventStore, counterChangesProjection()),
      );
    } finally {
      await projector.stop();
    }
  });

  it('moves its checkpoint past events it does not read', async () => {
    const { eventStore, readStore, commands } = await setup();
    await commands.open('a');
    await commands.increment('a', 10);
    // Only other kinds of events after the last change: the checkpoint must still reach the head.
    await commands.close('a').catch(() => {}); // refused (the total is not zero): appends nothing
    await commands.decrement('a', 10);
    await commands.close('a');
    for (let i = 0; i < 5; i++)
      await eventStore.append(`other-${i}`, [eventData('SomethingElse', { i }, testTime(i))], {
        expectedRevision: 'no_stream',
      });
    const head = await eventStore.headPosition();

    const projector = startTestProjector({
      projection: counterChangesProjection(),
      eventStore,
      readStore,
    });
    try {
      expect(await projector.watch.waitFor('counter-changes', head!, { timeoutMs: 10_000 })).toBe(true);
      expect(await checkpointStore(readStore).read('counter-changes')).toBe(head);
      expect((await projector.stats()).eventsProjected).toBe(2);
    } finally {
      await projector.stop();
    }
  });

  it('stop() writes the pending batch and commits its checkpoint', async () => {
    const { eventStore, readStore, commands } = await setup();
    await commands.open('a');
    await commands.increment('a', 5);
    await commands.increment('a', 6);
    const { projection: counted, seen } = counting(countersProjection());
    // Timer flushing only, and neither the count nor the timer would ever write this batch: only stop() does.
    const projector = startTestProjector({
      projection: counted,
      eventStore,
      readStore,
      tuning: { ...testTuning, batchSize: 1_000, flushIntervalMs: 600_000, flush: 'timer' },
    });
    await vi.waitFor(() => expect(seen).toHaveLength(3));
    expect(await checkpointStore(readStore).read('counters')).toBeUndefined();
    await projector.stop();
    expect(await checkpointStore(readStore).read('counters')).toBe(await eventStore.headPosition());
    expect(await allDocs(readStore, 'counters')).toEqual([expect.objectContaining({ _id: 'a', total: 11 })]);
  });

  it('replaying a range it already projected leaves the same model, and counts the duplicates', async () => {
    const { eventStore, readStore, commands } = await setup();
    for (let i = 0; i < 10; i++) await commands.open(`ctr-${i}`);
    for (let i = 0; i < 10; i++) await commands.increment(`ctr-${i}`, 7);
    for (let i = 0; i < 10; i += 2) await commands.decrement(`ctr-${i}`, 3);
    const projection = countersProjection();

    const first = startTestProjector({ projection, eventStore, readStore });
    await first.caughtUp();
    await first.stop();
    const model = await readModel(readStore, projection);

    // As after a crash between the writes and the checkpoint: the checkpoint is behind the model.
    await readStore.collection(CHECKPOINTS).bulkWrite([{ deleteOne: { filter: { _id: 'counters' } } }]);
    const second = startTestProjector({ projection, eventStore, readStore });
    try {
      await second.caughtUp();
      expect(await readModel(readStore, projection)).toEqual(model);
      expect((await second.stats()).duplicatesSkipped).toBe(25);
    } finally {
      await second.stop();
    }
  });

  it('lets timers and I/O run between the batches of a catch-up on in-process stores', async () => {
    const { eventStore, readStore } = await setup();
    for (let i = 0; i < 40; i++)
      await eventStore.append(
        `clock-${i}`,
        Array.from({ length: 50 }, (_, j) => eventData('Ticked', { j }, testTime(j))),
        { expectedRevision: 'no_stream' },
      );
    const head = (await eventStore.headPosition())!;
    const ticks: Projection = {
      name: 'ticks',
      eventTypes: ['Ticked'],
      collections: [{ name: 'ticks' }],
      handle: (event) => ({
        ticks: [{ insertOne: { document: { _id: String(event.position) } } }],
      }),
    };
    // Neither store waits on I/O: without a yield between batches, the whole catch-up is one
    // stretch of microtasks, and a timer (the lease's renewal, an HTTP request) waits until its end.
    let checkpointAtTimer: bigint | undefined;
    const projector = startTestProjector({ projection: ticks, eventStore, readStore });
    setTimeout(() => {
      checkpointAtTimer = projector.watch.latest('ticks') ?? 0n;
    }, 0);
    try {
      await projector.caughtUp();
      expect(checkpointAtTimer).toBeDefined();
      expect(checkpointAtTimer).toBeLessThan(head);
    } finally {
      await projector.stop();
    }
  });

  it('reports lag in events, counted up to a limit', async () => {
    const { eventStore, readStore, commands } = await setup();
    await commands.open('a');
    for (let i = 0; i < 4; i++) await commands.increment('a', 1);
    // Nothing is committed before stop(): timer flushing only, and a batch that neither fills nor times out.
    const { projection, seen } = counting(countersProjection());
    const projector = startTestProjector({
      projection,
      eventStore,
      readStore,
      lagCountLimit: 3,
      tuning: { ...testTuning, batchSize: 1_000, flushIntervalMs: 600_000, flush: 'timer' },
    });
    await vi.waitFor(() => expect(seen).toHaveLength(5));
    const before = await projector.stats();
    expect(before).toMatchObject({ checkpoint: null, head: '5', lag: { events: 3, atLeast: true } });
    await projector.stop();
    expect(await projector.stats()).toMatchObject({ checkpoint: '5', lag: { events: 0, atLeast: false } });
  });
});
