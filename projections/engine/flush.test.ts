import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { createEmbeddedReadStore } from '../../infra/read-store/embedded-read-store.js';
import type { Collection, Document, ReadStore, WriteOp } from '../../infra/read-store/read-store.js';
import { checkpointStore } from './checkpoint-store.js';
import type { Tuning } from './project.js';
import { COUNTER_CHANGES, counterChangesProjection } from './testing/fixture-projection.js';
import { counterCommands, startTestProjector, testTuning } from './testing/harness.js';
import { eventData, testTime } from './testing/recorded-events.js';

/**
 * When a projector writes its batch: as soon as the subscription has nothing more at hand (the
 * default), with the batch size and the interval as upper bounds; or, with `flush: 'timer'`, only
 * by size and interval. The interval here is ten minutes, so a test that waits for it fails.
 */
const NO_TIMER: Tuning = { ...testTuning, batchSize: 1_000, flushIntervalMs: 600_000 };

/** An embedded read store that records the size of every bulk write to `watched`, and can make them slow. */
const recording = (watched: string, delayMs = 0) => {
  const inner = createEmbeddedReadStore();
  const writes: number[] = [];
  const store: ReadStore = {
    ...inner,
    collection: <T extends Document>(name: string) => {
      const collection = inner.collection<T>(name);
      if (name !== watched) return collection;
      return {
        ...collection,
        bulkWrite: async (ops: readonly WriteOp[]) => {
          writes.push(ops.length);
          if (delayMs > 0) await sleep(delayMs);
          return collection.bulkWrite(ops);
        },
      } satisfies Collection<T>;
    },
  };
  return { store, writes };
};

const setup = (tuning: Tuning, delayMs = 0) => {
  const eventStore = createMemoryEventStore();
  const { store: readStore, writes } = recording(COUNTER_CHANGES, delayMs);
  const projector = startTestProjector({
    projection: counterChangesProjection(),
    eventStore,
    readStore,
    tuning,
  });
  return { eventStore, readStore, writes, projector, commands: counterCommands(eventStore) };
};

/** `count` increments of counter `id` in one append: events that arrive together. */
const burst = (eventStore: ReturnType<typeof createMemoryEventStore>, id: string, count: number) =>
  eventStore.append(
    `counter-${id}`,
    [
      eventData('CounterOpened', { counterId: id, owner: 'Ada' }, testTime(0)),
      ...Array.from({ length: count }, (_, i) =>
        eventData('Incremented', { counterId: id, amount: 1, total: i + 1 }, testTime(i + 1)),
      ),
    ],
    { expectedRevision: 'no_stream' },
  );

describe('flushing when the subscription has nothing more to give', () => {
  it('writes an event appended while the projector is idle without waiting for the timer', async () => {
    const { projector, commands, writes } = setup(NO_TIMER);
    try {
      await commands.open('a');
      await projector.caughtUp(); // idle now, nothing pending
      const { position } = await commands.increment('a', 5);
      expect(await projector.watch.waitFor('counter-changes', position, { timeoutMs: 5_000 })).toBe(true);
      expect(writes).toEqual([1]);
    } finally {
      await projector.stop();
    }
  });

  it('moves the checkpoint past events it does not read without waiting for the timer', async () => {
    const { projector, eventStore, readStore } = setup(NO_TIMER);
    try {
      const { position } = await eventStore.append('other-1', [eventData('SomethingElse', {}, testTime(1))], {
        expectedRevision: 'no_stream',
      });
      expect(await projector.watch.waitFor('counter-changes', position, { timeoutMs: 5_000 })).toBe(true);
      expect(await checkpointStore(readStore).read('counter-changes')).toBe(position);
    } finally {
      await projector.stop();
    }
  });

  it('writes events that arrive together in one batch, not one each', async () => {
    const { projector, eventStore, writes } = setup(NO_TIMER);
    try {
      await projector.caughtUp();
      await burst(eventStore, 'a', 40);
      await projector.caughtUp();
      expect(writes).toEqual([40]);
      expect((await projector.stats()).batches).toBe(1);
    } finally {
      await projector.stop();
    }
  });

  it('gathers what arrives while a slow write is in flight into the next batch (group commit)', async () => {
    const { projector, commands, writes } = setup(NO_TIMER, 300);
    try {
      await commands.open('a');
      await commands.increment('a', 1);
      await vi.waitFor(() => expect(writes).toEqual([1])); // its write is in flight for 300 ms
      // 20 more, one by one, each followed by a turn of the event loop: the projector is idle
      // after each, and would write each alone if it did not wait for the write in flight.
      for (let i = 0; i < 20; i++) {
        await commands.increment('a', 1);
        await new Promise(setImmediate);
      }
      await projector.caughtUp();
      // The rest in one batch (two if the appends outlasted the write), never one write per event.
      expect(writes.reduce((sum, n) => sum + n, 0)).toBe(21);
      expect(writes.length).toBeLessThanOrEqual(3);
    } finally {
      await projector.stop();
    }
  });

  it('still splits a burst at the batch size', async () => {
    const { projector, eventStore, writes } = setup({ ...NO_TIMER, batchSize: 10 });
    try {
      await projector.caughtUp();
      await burst(eventStore, 'a', 35);
      await projector.caughtUp();
      expect(writes).toEqual([10, 10, 10, 5]);
    } finally {
      await projector.stop();
    }
  });

  it("with flush: 'timer', an idle event waits for the interval, as before", async () => {
    const { projector, commands, writes } = setup({ ...NO_TIMER, flushIntervalMs: 400, flush: 'timer' });
    try {
      await commands.open('a');
      const { position } = await commands.increment('a', 5);
      // A timer never fires early: nothing is written in the first 200 ms.
      expect(await projector.watch.waitFor('counter-changes', position, { timeoutMs: 200 })).toBe(false);
      expect(writes).toEqual([]);
      expect(await projector.watch.waitFor('counter-changes', position, { timeoutMs: 5_000 })).toBe(true);
      expect(writes).toEqual([1]);
    } finally {
      await projector.stop();
    }
  });
});
