import { expect, it, vi } from 'vitest';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { createEmbeddedReadStore } from '../../infra/read-store/embedded-read-store.js';
import { accountTransactionsProjection } from '../accounts/account-transactions-projection.js';
import { accountsProjection } from '../accounts/accounts-projection.js';
import { CHECKPOINTS, checkpointStore } from './checkpoint-store.js';
import type { Projection } from './projection.js';
import { accountCommands, allDocs, counting, startTestProjector, testTuning } from './testing/harness.js';
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
    return { eventStore, readStore, commands: accountCommands(eventStore) };
  };

  it('projects the log in batches, then commits the checkpoint as a decimal string', async () => {
    const { eventStore, readStore, commands } = await setup();
    for (let i = 0; i < 30; i++) await commands.open(`acc-${i}`, `owner-${i % 3}`);
    for (let i = 0; i < 30; i++) await commands.deposit(`acc-${i}`, 100 + i);
    const { position } = await commands.withdraw('acc-0', 50);

    const projector = startTestProjector({ projection: accountsProjection(), eventStore, readStore });
    try {
      expect(await projector.watch.waitFor('accounts', position, { timeoutMs: 10_000 })).toBe(true);
      expect(await readModel(readStore, accountsProjection())).toEqual(
        await expectedModel(eventStore, accountsProjection()),
      );
      expect(await readStore.collection(CHECKPOINTS).findOne({ _id: 'accounts' })).toMatchObject({
        position: String(position),
      });
      const stats = await projector.stats();
      expect(stats).toMatchObject({
        projection: 'accounts',
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
      projection: accountTransactionsProjection(),
      eventStore,
      readStore,
    });
    try {
      await projector.caughtUp();
      for (let i = 1; i <= 25; i++) await commands.deposit('a', i, i % 2 === 0 ? `ref-${i}` : undefined);
      await projector.caughtUp();
      expect(await allDocs(readStore, 'account_transactions')).toHaveLength(25);
      // Field for field, `reference: null` included, as the log gives it one event at a time.
      expect(await readModel(readStore, accountTransactionsProjection())).toEqual(
        await expectedModel(eventStore, accountTransactionsProjection()),
      );
    } finally {
      await projector.stop();
    }
  });

  it('moves its checkpoint past events it does not read', async () => {
    const { eventStore, readStore, commands } = await setup();
    await commands.open('a');
    await commands.deposit('a', 10);
    // Only other kinds of events after the last deposit: the checkpoint must still reach the head.
    await commands.close('a').catch(() => {}); // refused (balance is not zero): appends nothing
    await commands.withdraw('a', 10);
    await commands.close('a');
    for (let i = 0; i < 5; i++)
      await eventStore.append(`transfer-${i}`, [eventData('TransferRequested', { i }, testTime(i))], {
        expectedRevision: 'no_stream',
      });
    const head = await eventStore.headPosition();

    const projector = startTestProjector({
      projection: accountTransactionsProjection(),
      eventStore,
      readStore,
    });
    try {
      expect(await projector.watch.waitFor('account-transactions', head!, { timeoutMs: 10_000 })).toBe(true);
      expect(await checkpointStore(readStore).read('account-transactions')).toBe(head);
      expect((await projector.stats()).eventsProjected).toBe(2);
    } finally {
      await projector.stop();
    }
  });

  it('stop() writes the pending batch and commits its checkpoint', async () => {
    const { eventStore, readStore, commands } = await setup();
    await commands.open('a');
    await commands.deposit('a', 5);
    await commands.deposit('a', 6);
    const { projection: counted, seen } = counting(accountsProjection());
    // Neither the count nor the timer would ever write this batch: only stop() does.
    const projector = startTestProjector({
      projection: counted,
      eventStore,
      readStore,
      tuning: { ...testTuning, batchSize: 1_000, flushIntervalMs: 600_000 },
    });
    await vi.waitFor(() => expect(seen).toHaveLength(3));
    expect(await checkpointStore(readStore).read('accounts')).toBeUndefined();
    await projector.stop();
    expect(await checkpointStore(readStore).read('accounts')).toBe(await eventStore.headPosition());
    expect(await allDocs(readStore, 'accounts')).toEqual([
      expect.objectContaining({ _id: 'a', balance: 11 }),
    ]);
  });

  it('replaying a range it already projected leaves the same model, and counts the duplicates', async () => {
    const { eventStore, readStore, commands } = await setup();
    for (let i = 0; i < 10; i++) await commands.open(`acc-${i}`);
    for (let i = 0; i < 10; i++) await commands.deposit(`acc-${i}`, 7);
    for (let i = 0; i < 10; i += 2) await commands.withdraw(`acc-${i}`, 3);
    const projection = accountsProjection();

    const first = startTestProjector({ projection, eventStore, readStore });
    await first.caughtUp();
    await first.stop();
    const model = await readModel(readStore, projection);

    // As after a crash between the writes and the checkpoint: the checkpoint is behind the model.
    await readStore.collection(CHECKPOINTS).bulkWrite([{ deleteOne: { filter: { _id: 'accounts' } } }]);
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
    for (let i = 0; i < 4; i++) await commands.deposit('a', 1);
    // Nothing is committed before stop(): a batch that neither fills nor times out.
    const { projection, seen } = counting(accountsProjection());
    const projector = startTestProjector({
      projection,
      eventStore,
      readStore,
      lagCountLimit: 3,
      tuning: { ...testTuning, batchSize: 1_000, flushIntervalMs: 600_000 },
    });
    await vi.waitFor(() => expect(seen).toHaveLength(5));
    const before = await projector.stats();
    expect(before).toMatchObject({ checkpoint: null, head: '5', lag: { events: 3, atLeast: true } });
    await projector.stop();
    expect(await projector.stats()).toMatchObject({ checkpoint: '5', lag: { events: 0, atLeast: false } });
  });
});
