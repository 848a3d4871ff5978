import { describe, expect, it, vi } from 'vitest';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { createEmbeddedReadStore } from '../../infra/read-store/embedded-read-store.js';
import type { Collection, Document, ReadStore, WriteOp } from '../../infra/read-store/read-store.js';
import { accountTransactionsProjection } from '../accounts/account-transactions-projection.js';
import { accountsProjection } from '../accounts/accounts-projection.js';
import { parkedEvents } from './parked-events.js';
import { replayParked } from './replay-parked.js';
import {
  accountCommands,
  allDocs,
  fragile,
  silentLogger,
  startTestProjector,
  testTuning,
} from './testing/harness.js';

const setup = () => {
  const eventStore = createMemoryEventStore();
  const readStore = createEmbeddedReadStore();
  return { eventStore, readStore, commands: accountCommands(eventStore) };
};

/** The real embedded store, with faults injected into writes: `fail` picks the bulk writes that throw. */
const faulty = (inner: ReadStore, fail: (collection: string, ops: readonly WriteOp[]) => boolean) => {
  const state = { down: false };
  const store: ReadStore = {
    ...inner,
    collection: <T extends Document>(name: string) => {
      const collection = inner.collection(name) as Collection;
      return {
        ...collection,
        bulkWrite: async (ops: readonly WriteOp[]) => {
          if (state.down) throw new Error('connection refused');
          if (fail(name, ops)) throw new Error(`write to ${name} refused`);
          return collection.bulkWrite(ops);
        },
      } as unknown as Collection<T>;
    },
    ping: async () => {
      if (state.down) throw new Error('connection refused');
    },
  };
  return Object.assign(state, { store });
};

const namesId = (ops: readonly WriteOp[], id: string) =>
  ops.some((op) => 'updateOne' in op && op.updateOne.filter._id === id);

describe('parking', () => {
  it('parks a poison event after its retries, projects the events after it, and replays it once fixed', async () => {
    const { eventStore, readStore, commands } = setup();
    await commands.open('a');
    await commands.deposit('a', 100, 'poison');
    await commands.deposit('a', 50);
    await commands.open('b');
    await commands.deposit('b', 7);
    const poison = fragile(
      accountTransactionsProjection(),
      (event) => (event.data as { reference?: string }).reference === 'poison',
    );

    const projector = startTestProjector({ projection: poison.projection, eventStore, readStore });
    try {
      await projector.caughtUp();
      const parked = await parkedEvents(readStore).list('account-transactions');
      expect(parked).toEqual([
        expect.objectContaining({
          _id: 'account-transactions:2',
          projection: 'account-transactions',
          event: expect.objectContaining({
            streamId: 'account-a',
            revision: 1,
            position: '2',
            type: 'MoneyDeposited',
          }),
          error: expect.objectContaining({ message: 'cannot handle MoneyDeposited at 2' }),
          attempts: 3,
        }),
      ]);
      expect((await allDocs(readStore, 'account_transactions')).map((doc) => doc._id)).toEqual([
        'a:2',
        'b:1',
      ]);
      expect(await projector.stats()).toMatchObject({ parked: 1, parkedWaiting: 1, retries: 2 });

      // Still broken: the replay fails, the entry stays with one more attempt.
      const failed = await replayParked({ projection: poison.projection, readStore, logger: silentLogger });
      expect(failed).toEqual({
        replayed: [],
        superseded: [],
        failed: [{ id: 'account-transactions:2', error: 'cannot handle MoneyDeposited at 2' }],
      });
      expect((await parkedEvents(readStore).list())[0]?.attempts).toBe(4);

      poison.fixed = true;
      const replay = await replayParked({ projection: poison.projection, readStore, logger: silentLogger });
      expect(replay).toEqual({ replayed: ['account-transactions:2'], superseded: [], failed: [] });
      expect(await parkedEvents(readStore).list()).toEqual([]);
      expect(await allDocs(readStore, 'account_transactions')).toEqual([
        expect.objectContaining({ _id: 'a:1', amount: 100, reference: 'poison', balanceAfter: 100 }),
        expect.objectContaining({ _id: 'a:2' }),
        expect.objectContaining({ _id: 'b:1' }),
      ]);
    } finally {
      await projector.stop();
    }
  });

  it('a replayed event older than the document it touches leaves the document as the later event made it', async () => {
    const { eventStore, readStore, commands } = setup();
    await commands.open('a');
    await commands.deposit('a', 100);
    await commands.deposit('a', 50);
    const broken = fragile(accountsProjection(), (event) => event.revision === 1);
    const projector = startTestProjector({ projection: broken.projection, eventStore, readStore });
    await projector.caughtUp();
    await projector.stop();
    broken.fixed = true;
    const replay = await replayParked({ projection: broken.projection, readStore, logger: silentLogger });
    expect(replay.replayed).toHaveLength(1);
    expect(replay.superseded).toEqual(replay.replayed);
    expect(await allDocs(readStore, 'accounts')).toEqual([
      expect.objectContaining({ balance: 150, revision: 2 }),
    ]);
  });

  it('reports a replay that a later event of its stream superseded: what only it carried needs a rebuild', async () => {
    const { eventStore, readStore, commands } = setup();
    await commands.open('a');
    await commands.deposit('a', 100);
    const broken = fragile(accountsProjection(), (event) => event.type === 'AccountOpened');
    const projector = startTestProjector({ projection: broken.projection, eventStore, readStore });
    await projector.caughtUp();
    await projector.stop();
    broken.fixed = true;
    const replay = await replayParked({ projection: broken.projection, readStore, logger: silentLogger });
    expect(replay).toEqual({ replayed: ['accounts:1'], superseded: ['accounts:1'], failed: [] });
    // The deposit made the document; the owner only the replayed event carries is not in it.
    expect(await allDocs(readStore, 'accounts')).toEqual([
      expect.not.objectContaining({ owner: expect.anything() }),
    ]);
  });

  it('retries a handler that fails once, and parks nothing', async () => {
    const { eventStore, readStore, commands } = setup();
    await commands.open('a');
    await commands.deposit('a', 100);
    let failures = 0;
    const inner = accountsProjection();
    const flaky = {
      ...inner,
      handle: (event: Parameters<typeof inner.handle>[0]) => {
        if (event.revision === 1 && failures++ === 0) throw new Error('flaky');
        return inner.handle(event);
      },
    };
    const projector = startTestProjector({ projection: flaky, eventStore, readStore });
    try {
      await projector.caughtUp();
      expect(await projector.stats()).toMatchObject({ retries: 1, parked: 0, parkedWaiting: 0 });
      expect(await allDocs(readStore, 'accounts')).toEqual([expect.objectContaining({ balance: 100 })]);
    } finally {
      await projector.stop();
    }
  });

  it('an event retried across a timed flush is still written, before its checkpoint', async () => {
    const { eventStore, readStore, commands } = setup();
    await commands.open('a');
    await commands.deposit('a', 100);
    const broken = fragile(accountsProjection(), (event) => event.revision === 1);
    // The flush timer fires while the handler waits between tries, and writes the batch before it.
    const projector = startTestProjector({
      projection: broken.projection,
      eventStore,
      readStore,
      tuning: { ...testTuning, flushIntervalMs: 1, backoffMs: 10 },
    });
    try {
      await projector.caughtUp();
      expect(await parkedEvents(readStore).list()).toEqual([expect.objectContaining({ _id: 'accounts:2' })]);
    } finally {
      await projector.stop();
    }
  });

  it('parks the event whose writes keep failing, and writes the rest of its batch', async () => {
    const { eventStore, readStore: inner, commands } = setup();
    await commands.open('a');
    await commands.deposit('a', 1);
    await commands.deposit('a', 2);
    await commands.deposit('a', 3);
    const { store: readStore } = faulty(
      inner,
      (collection, ops) => collection === 'account_transactions' && namesId(ops, 'a:2'),
    );
    const projector = startTestProjector({
      projection: accountTransactionsProjection(),
      eventStore,
      readStore,
    });
    try {
      await projector.caughtUp();
      expect((await allDocs(readStore, 'account_transactions')).map((doc) => doc._id)).toEqual([
        'a:1',
        'a:3',
      ]);
      expect(await parkedEvents(readStore).list()).toEqual([
        expect.objectContaining({
          event: expect.objectContaining({ revision: 2 }),
          error: expect.objectContaining({ message: 'write to account_transactions refused' }),
        }),
      ]);
    } finally {
      await projector.stop();
    }
  });

  it('parks nothing while the read store is down: it starts again from its checkpoint once the store is back', async () => {
    const { eventStore, readStore: inner, commands } = setup();
    await commands.open('a');
    const faults = faulty(inner, () => false);
    const projector = startTestProjector({
      projection: accountsProjection(),
      eventStore,
      readStore: faults.store,
    });
    try {
      await projector.caughtUp();
      faults.down = true;
      await commands.deposit('a', 5);
      await commands.deposit('a', 6);
      await vi.waitFor(async () => expect((await projector.stats()).restarts).toBeGreaterThan(0), {
        timeout: 10_000,
      });
      faults.down = false;
      await projector.caughtUp();
      expect(await allDocs(inner, 'accounts')).toEqual([
        expect.objectContaining({ balance: 11, revision: 2 }),
      ]);
      expect(await parkedEvents(inner).list()).toEqual([]);
    } finally {
      await projector.stop();
    }
  });
});
