import { expect, it, vi } from 'vitest';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import type { Collection, Document, ReadStore, WriteOp } from '../../infra/read-store/read-store.js';
import { parkedEventDocument, parkedEvents, parkOp } from './parked-events.js';
import { replayParked } from './replay-parked.js';
import { counterChangesProjection, countersProjection } from './testing/fixture-projection.js';
import {
  allDocs,
  counterCommands,
  counting,
  fragile,
  silentLogger,
  startTestProjector,
  testTuning,
} from './testing/harness.js';
import { describeOnEachReadStore } from './testing/read-stores.js';

/** A real store, with faults injected into writes: `fail` picks the bulk writes that throw. */
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

describeOnEachReadStore('parking', (fresh) => {
  const setup = async () => {
    const eventStore = createMemoryEventStore();
    const readStore = await fresh();
    return { eventStore, readStore, commands: counterCommands(eventStore) };
  };

  it('parks a poison event after its retries and the later events of its stream behind it, projects the other streams, and replays them in order once fixed', async () => {
    const { eventStore, readStore, commands } = await setup();
    await commands.open('a');
    await commands.increment('a', 100, 'poison');
    await commands.increment('a', 50);
    await commands.open('b');
    await commands.increment('b', 7);
    const poison = fragile(
      counterChangesProjection(),
      (event) => (event.data as { note?: string }).note === 'poison',
    );

    const projector = startTestProjector({ projection: poison.projection, eventStore, readStore });
    try {
      await projector.caughtUp();
      const parked = await parkedEvents(readStore).list('counter-changes');
      expect(parked).toEqual([
        expect.objectContaining({
          _id: 'counter-changes:2',
          projection: 'counter-changes',
          event: expect.objectContaining({
            streamId: 'counter-a',
            revision: 1,
            position: '2',
            type: 'Incremented',
          }),
          error: expect.objectContaining({ message: 'cannot handle Incremented at 2' }),
          attempts: 3,
        }),
        expect.objectContaining({
          _id: 'counter-changes:3',
          event: expect.objectContaining({ streamId: 'counter-a', revision: 2 }),
          error: {
            name: 'StreamParked',
            message: 'an earlier event of this stream is parked: counter-changes:2',
          },
          behind: 'counter-changes:2',
          attempts: 0,
        }),
      ]);
      expect(parked[0]).not.toHaveProperty('behind');
      // The handler never ran for the event parked behind: 3 tries of the poison, then b's increment.
      expect(poison.calls).toBe(3 + 1);
      expect((await allDocs(readStore, 'counter_changes')).map((doc) => doc._id)).toEqual(['b:1']);
      expect(await projector.stats()).toMatchObject({ parked: 2, parkedWaiting: 2, retries: 2 });

      // Still broken: the replay stops at the poison, the entry stays with one more attempt, and
      // the event behind it is not tried.
      const failed = await replayParked({ projection: poison.projection, readStore, logger: silentLogger });
      expect(failed).toEqual({
        replayed: [],
        superseded: [],
        failed: [{ id: 'counter-changes:2', error: 'cannot handle Incremented at 2' }],
        waiting: ['counter-changes:3'],
      });
      expect((await parkedEvents(readStore).list()).map((doc) => doc.attempts)).toEqual([4, 0]);

      poison.fixed = true;
      const replay = await replayParked({ projection: poison.projection, readStore, logger: silentLogger });
      expect(replay).toEqual({
        replayed: ['counter-changes:2', 'counter-changes:3'],
        superseded: [],
        failed: [],
        waiting: [],
      });
      expect(await parkedEvents(readStore).list()).toEqual([]);
      expect(await allDocs(readStore, 'counter_changes')).toEqual([
        expect.objectContaining({ _id: 'a:1', amount: 100, note: 'poison', totalAfter: 100 }),
        expect.objectContaining({ _id: 'a:2', amount: 50, totalAfter: 150 }),
        expect.objectContaining({ _id: 'b:1' }),
      ]);
    } finally {
      await projector.stop();
    }
  });

  it('parks an event the log holds damaged without running its handler, the later events of its stream behind it, and replays it once the log is restored', async () => {
    const { eventStore, readStore, commands } = await setup();
    await commands.open('a');
    await commands.increment('a', 100);
    await commands.increment('a', 50);
    await commands.open('b');
    await commands.increment('b', 7);
    // The log as a backup has it: the same events at the same positions, undamaged.
    const restored = createMemoryEventStore();
    for (const { streamId, type, data, metadata } of await eventStore.readAll())
      await restored.append(streamId, [{ type, data, metadata }], { expectedRevision: 'any' });
    eventStore.damage('counter-a', 1);

    const { projection, seen } = counting(counterChangesProjection());
    const projector = startTestProjector({ projection, eventStore, readStore });
    try {
      await projector.caughtUp();
      expect(await parkedEvents(readStore).list('counter-changes')).toEqual([
        expect.objectContaining({
          _id: 'counter-changes:2',
          event: expect.objectContaining({ streamId: 'counter-a', revision: 1, position: '2', data: null }),
          error: expect.objectContaining({
            name: 'CorruptEventError',
            message: expect.stringContaining(
              'stream counter-a: the stored event at revision 1 (position 2) is damaged',
            ),
          }),
          attempts: 1,
          damaged: true,
        }),
        expect.objectContaining({ _id: 'counter-changes:3', behind: 'counter-changes:2' }),
      ]);
      expect(seen).not.toContain(2n);
      expect((await allDocs(readStore, 'counter_changes')).map((doc) => doc._id)).toEqual(['b:1']);
      expect(await projector.stats()).toMatchObject({ parked: 2, restarts: 0 });

      // Its parked copy has no content to replay: without the log, or with the log still damaged, it stays.
      expect(await replayParked({ projection, readStore, logger: silentLogger })).toMatchObject({
        replayed: [],
        failed: [
          {
            id: 'counter-changes:2',
            error: expect.stringMatching(/damaged in the event log: restore it/),
          },
        ],
        waiting: ['counter-changes:3'],
      });
      expect(await replayParked({ projection, readStore, eventStore, logger: silentLogger })).toMatchObject({
        replayed: [],
        failed: [{ id: 'counter-changes:2', error: expect.stringMatching(/is damaged/) }],
      });
      // Restored: it is read again from the log and replays, and the one behind it follows.
      expect(
        await replayParked({ projection, readStore, eventStore: restored, logger: silentLogger }),
      ).toEqual({
        replayed: ['counter-changes:2', 'counter-changes:3'],
        superseded: [],
        failed: [],
        waiting: [],
      });
      expect(await allDocs(readStore, 'counter_changes')).toEqual([
        expect.objectContaining({ _id: 'a:1', amount: 100, totalAfter: 100 }),
        expect.objectContaining({ _id: 'a:2', amount: 50, totalAfter: 150 }),
        expect.objectContaining({ _id: 'b:1' }),
      ]);
    } finally {
      await projector.stop();
    }
  });

  it('keeps a stream whose CounterOpened parked out of the model, and the replay restores the whole document', async () => {
    const { eventStore, readStore, commands } = await setup();
    await commands.open('a', 'Mallory');
    await commands.increment('a', 100);
    await commands.increment('a', 50);
    await commands.open('b');
    const broken = fragile(
      countersProjection(),
      (event) => event.type === 'CounterOpened' && event.streamId === 'counter-a',
    );
    const projector = startTestProjector({ projection: broken.projection, eventStore, readStore });
    try {
      await projector.caughtUp();
      // No document with a hole: none at all for `a`, whose increments wait behind its CounterOpened.
      expect((await allDocs(readStore, 'counters')).map((doc) => doc._id)).toEqual(['b']);
      expect((await parkedEvents(readStore).list()).map((doc) => [doc._id, doc.behind])).toEqual([
        ['counters:1', undefined],
        ['counters:2', 'counters:1'],
        ['counters:3', 'counters:1'],
      ]);

      broken.fixed = true;
      const replay = await replayParked({ projection: broken.projection, readStore, logger: silentLogger });
      expect(replay).toEqual({
        replayed: ['counters:1', 'counters:2', 'counters:3'],
        superseded: [],
        failed: [],
        waiting: [],
      });
      expect(await allDocs(readStore, 'counters')).toEqual([
        expect.objectContaining({ _id: 'a', owner: 'Mallory', total: 150, revision: 2 }),
        expect.objectContaining({ _id: 'b' }),
      ]);

      // The projector reloads its blocked streams: the next increment on `a` projects, no restart needed.
      await commands.increment('a', 1);
      await vi.waitFor(
        async () =>
          expect(await allDocs(readStore, 'counters')).toEqual([
            expect.objectContaining({ _id: 'a', total: 151, revision: 3 }),
            expect.objectContaining({ _id: 'b' }),
          ]),
        { timeout: 10_000 },
      );
    } finally {
      await projector.stop();
    }
  });

  it('a projector started with parked events keeps their streams blocked', async () => {
    const { eventStore, readStore, commands } = await setup();
    await commands.open('a');
    const broken = fragile(countersProjection(), (event) => event.type === 'CounterOpened');
    const first = startTestProjector({ projection: broken.projection, eventStore, readStore });
    await first.caughtUp();
    await first.stop();
    broken.fixed = true; // fixed, but not replayed: the stream stays blocked
    await commands.increment('a', 5);
    const second = startTestProjector({ projection: broken.projection, eventStore, readStore });
    try {
      await second.caughtUp();
      expect(await allDocs(readStore, 'counters')).toEqual([]);
      expect((await parkedEvents(readStore).list()).map((doc) => doc.behind)).toEqual([
        undefined,
        'counters:1',
      ]);
    } finally {
      await second.stop();
    }
  });

  it('replays each stream in order and stops it at the first event that fails again', async () => {
    const { eventStore, readStore, commands } = await setup();
    await commands.open('a');
    await commands.increment('a', 1);
    await commands.increment('a', 2);
    await commands.increment('a', 3);
    const broken = new Set([1, 2]);
    const inner = countersProjection();
    const projection = {
      ...inner,
      handle: (event: Parameters<typeof inner.handle>[0]) => {
        if (broken.has(event.revision)) throw new Error(`broken at ${event.revision}`);
        return inner.handle(event);
      },
    };
    const projector = startTestProjector({ projection, eventStore, readStore });
    await projector.caughtUp();
    await projector.stop();
    expect(await allDocs(readStore, 'counters')).toEqual([expect.objectContaining({ revision: 0 })]);

    broken.delete(1);
    const replay = await replayParked({ projection, readStore, logger: silentLogger });
    expect(replay).toEqual({
      replayed: ['counters:2'],
      superseded: [],
      failed: [{ id: 'counters:3', error: 'broken at 2' }],
      waiting: ['counters:4'],
    });
    expect(await allDocs(readStore, 'counters')).toEqual([
      expect.objectContaining({ total: 1, revision: 1 }),
    ]);
    expect((await parkedEvents(readStore).list()).map((doc) => doc._id)).toEqual([
      'counters:3',
      'counters:4',
    ]);
  });

  it('reports a replay that a later event of its stream superseded: what only it carried needs a rebuild', async () => {
    const { eventStore, readStore, commands } = await setup();
    await commands.open('a');
    await commands.increment('a', 100);
    const projector = startTestProjector({ projection: countersProjection(), eventStore, readStore });
    await projector.caughtUp();
    await projector.stop();
    // An entry left from before parking was per stream, whose stream's later events projected.
    const [opened] = await eventStore.readStream('counter-a');
    if (!opened) throw new Error('no CounterOpened');
    await parkedEvents(readStore).write([
      parkOp(
        parkedEventDocument({
          projection: 'counters',
          event: opened,
          error: new Error('was broken'),
          attempts: 3,
          parkedBy: 'test',
          now: new Date(),
        }),
      ),
    ]);
    const replay = await replayParked({ projection: countersProjection(), readStore, logger: silentLogger });
    expect(replay).toEqual({ replayed: ['counters:1'], superseded: ['counters:1'], failed: [], waiting: [] });
    expect(await allDocs(readStore, 'counters')).toEqual([
      expect.objectContaining({ total: 100, revision: 1 }),
    ]);
  });

  it('retries a handler that fails once, and parks nothing', async () => {
    const { eventStore, readStore, commands } = await setup();
    await commands.open('a');
    await commands.increment('a', 100);
    let failures = 0;
    const inner = countersProjection();
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
      expect(await allDocs(readStore, 'counters')).toEqual([expect.objectContaining({ total: 100 })]);
    } finally {
      await projector.stop();
    }
  });

  it('an event retried across a timed flush is still written, before its checkpoint', async () => {
    const { eventStore, readStore, commands } = await setup();
    await commands.open('a');
    await commands.increment('a', 100);
    const broken = fragile(countersProjection(), (event) => event.revision === 1);
    // The flush timer fires while the handler waits between tries, and writes the batch before it.
    const projector = startTestProjector({
      projection: broken.projection,
      eventStore,
      readStore,
      tuning: { ...testTuning, flushIntervalMs: 1, backoffMs: 10 },
    });
    try {
      await projector.caughtUp();
      expect(await parkedEvents(readStore).list()).toEqual([expect.objectContaining({ _id: 'counters:2' })]);
    } finally {
      await projector.stop();
    }
  });

  it('parks the event whose writes keep failing and the later events of its stream, and writes the rest of its batch', async () => {
    const { eventStore, readStore: inner, commands } = await setup();
    await commands.open('a');
    await commands.increment('a', 1);
    await commands.increment('a', 2);
    await commands.increment('a', 3);
    await commands.open('b');
    await commands.increment('b', 4);
    const { store: readStore } = faulty(
      inner,
      (collection, ops) => collection === 'counter_changes' && namesId(ops, 'a:2'),
    );
    const projector = startTestProjector({
      projection: counterChangesProjection(),
      eventStore,
      readStore,
    });
    try {
      await projector.caughtUp();
      expect((await allDocs(readStore, 'counter_changes')).map((doc) => doc._id)).toEqual(['a:1', 'b:1']);
      expect(await parkedEvents(readStore).list()).toEqual([
        expect.objectContaining({
          _id: 'counter-changes:3',
          event: expect.objectContaining({ revision: 2 }),
          error: expect.objectContaining({ message: 'write to counter_changes refused' }),
        }),
        expect.objectContaining({
          event: expect.objectContaining({ revision: 3 }),
          behind: 'counter-changes:3',
        }),
      ]);
    } finally {
      await projector.stop();
    }
  });

  it('parks nothing while the read store is down: it starts again from its checkpoint once the store is back', async () => {
    const { eventStore, readStore: inner, commands } = await setup();
    await commands.open('a');
    const faults = faulty(inner, () => false);
    const projector = startTestProjector({
      projection: countersProjection(),
      eventStore,
      readStore: faults.store,
    });
    try {
      await projector.caughtUp();
      faults.down = true;
      await commands.increment('a', 5);
      await commands.increment('a', 6);
      await vi.waitFor(async () => expect((await projector.stats()).restarts).toBeGreaterThan(0), {
        timeout: 10_000,
      });
      faults.down = false;
      await projector.caughtUp();
      expect(await allDocs(inner, 'counters')).toEqual([expect.objectContaining({ total: 11, revision: 2 })]);
      expect(await parkedEvents(inner).list()).toEqual([]);
    } finally {
      await projector.stop();
    }
  });
});
