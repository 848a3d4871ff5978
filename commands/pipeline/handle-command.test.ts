import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Aggregate } from '../../domain/shared/decider.js';
import { DomainError } from '../../domain/shared/domain-error.js';
import { counterAggregate } from '../../domain/shared/testing/counter.js';
import type { EventStore } from '../../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import {
  type CommandHandler,
  ConcurrencyConflictError,
  createCommandHandler,
  IdempotencyKeyReusedError,
} from './handle-command.js';
import { countingReads } from './testing/counting-store.js';

/**
 * The pipeline's state cache and its one-command-at-a-time-per-stream queue: how much of a stream
 * a command reads, that a decision is never appended on a state someone else moved on, and that
 * idempotency still sees every key in the stream.
 */
const context = (idempotency?: { key: string; requestHash: string }) => ({
  correlationId: 'c',
  causationId: 'c',
  ...(idempotency && { idempotency }),
});
const open = (handle: CommandHandler, counterId = 'ada') =>
  handle(counterAggregate, counterId, { type: 'OpenCounter', counterId, owner: 'Ada' }, context());
const increment = (
  handle: CommandHandler,
  amount: number,
  idempotency?: { key: string; requestHash: string },
  counterId = 'ada',
) => handle(counterAggregate, counterId, { type: 'Increment', counterId, amount }, context(idempotency));
const decrement = (handle: CommandHandler, amount: number, counterId = 'ada') =>
  handle(counterAggregate, counterId, { type: 'Decrement', counterId, amount }, context());

const metadata = () => ({
  eventId: randomUUID(),
  correlationId: 'w',
  causationId: 'w',
  occurredAt: new Date(0).toISOString(),
  schemaVersion: 1,
});

/** Another writer: increments of 1 appended straight to the store, after `revision` and `total`. */
const appendIncrements = async (store: EventStore, count: number, { revision = 0, total = 0 } = {}) => {
  const events = Array.from({ length: count }, (_, i) => ({
    type: 'Incremented',
    data: { counterId: 'ada', amount: 1, total: total + i + 1 },
    metadata: metadata(),
  }));
  return store.append('counter-ada', events, { expectedRevision: revision });
};

const totalOf = async (store: EventStore, revision: number) => {
  const [event] = await store.readStream('counter-ada', { fromRevision: revision });
  return (event?.data as { total?: number } | undefined)?.total;
};

const setup = (options: { stateCacheSize?: number; maxRetries?: number; onePerStream?: boolean } = {}) => {
  const inner = createMemoryEventStore();
  const counting = countingReads(inner);
  const handle = createCommandHandler({
    eventStore: counting.store,
    maxRetries: 5,
    backoffMs: 1,
    ...options,
  });
  return { inner, counting, handle };
};

describe('command pipeline with a state cache', () => {
  it('given a long stream it has read once, reads only the events after the revision it holds', async () => {
    const { inner, counting, handle } = setup();
    // Given a counter with 1,000 events, written by someone else.
    await open(createCommandHandler({ eventStore: inner, maxRetries: 0 }));
    await appendIncrements(inner, 999);
    counting.take();

    // When the pipeline runs a first command on it, it reads the whole stream (nothing cached)…
    expect(await increment(handle, 1)).toMatchObject({ revision: 1000 });
    expect(counting.take()).toEqual([{ streamId: 'counter-ada', fromRevision: 0, events: 1000 }]);

    // …and from then on only what follows the revision it holds.
    expect(await increment(handle, 1)).toMatchObject({ revision: 1001 });
    expect(counting.take()).toEqual([{ streamId: 'counter-ada', fromRevision: 1001, events: 0 }]);

    // Three events by another writer: read (and folded) on the next command, which decides on them.
    await appendIncrements(inner, 3, { revision: 1001, total: 1001 });
    expect(await increment(handle, 10)).toMatchObject({ revision: 1005 });
    expect(counting.take()).toEqual([{ streamId: 'counter-ada', fromRevision: 1002, events: 3 }]);
    expect(await totalOf(inner, 1005)).toBe(1001 + 3 + 10);
  });

  describe('given another pipeline writes between a command’s read and its append', () => {
    const race = async (amount: number) => {
      const { inner, counting, handle } = setup();
      const otherProcess = createCommandHandler({ eventStore: inner, maxRetries: 5, backoffMs: 1 });
      await open(handle);
      await increment(handle, 100);
      counting.take();
      let once = true;
      counting.hooks.beforeAppend = async () => {
        if (!once) return;
        once = false;
        await decrement(otherProcess, 80);
      };
      const outcome = decrement(handle, amount);
      return { inner, counting, outcome };
    };

    it('when the retry finds the total too low for it, then it is refused, and only the new event was read', async () => {
      const { inner, counting, outcome } = await race(50);
      await expect(outcome).rejects.toMatchObject({ code: 'below_zero' });
      expect(await outcome.catch((error) => error)).toBeInstanceOf(DomainError);
      // The first try decided on the cached state (nothing new), the retry read the one new event.
      expect(counting.take()).toEqual([
        { streamId: 'counter-ada', fromRevision: 2, events: 0 },
        { streamId: 'counter-ada', fromRevision: 2, events: 1 },
      ]);
      const decrements = (await inner.readStream('counter-ada')).filter((e) => e.type === 'Decremented');
      expect(decrements.map((e) => e.data)).toEqual([{ counterId: 'ada', amount: 80, total: 20 }]);
    });

    it('when the retry can still go through, then it decides on the new total', async () => {
      const { inner, outcome } = await race(15);
      expect(await outcome).toMatchObject({ revision: 3 });
      expect(await totalOf(inner, 3)).toBe(5);
    });
  });

  it('given a cache of size 0, reads the whole stream for every command, as without a cache', async () => {
    const { counting, handle } = setup({ stateCacheSize: 0 });
    await open(handle);
    await increment(handle, 1);
    await increment(handle, 2);
    await decrement(handle, 3);
    expect(counting.take()).toEqual(
      [0, 1, 2, 3].map((events) => ({ streamId: 'counter-ada', fromRevision: 0, events })),
    );
  });

  describe('idempotency keys', () => {
    it('forgets a key once its retention has passed: a request under it is then a new one', async () => {
      const { handle } = setup();
      await open(handle);
      let now = Date.parse('2026-01-01T00:00:00Z');
      const at = () => new Date(now);
      const pay = (amount: number, requestHash: string) =>
        handle(
          counterAggregate,
          'ada',
          { type: 'Increment', counterId: 'ada', amount },
          { ...context(), now: at, idempotency: { key: 'pay-old', requestHash, retentionMs: 60_000 } },
        );
      const first = await pay(10, 'h1');
      now += 60_000;
      expect(await pay(10, 'h1')).toEqual({ ...first, replayed: true }); // at the edge: still kept
      await expect(pay(11, 'other')).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
      now += 1;
      const later = await pay(11, 'other');
      expect(later.replayed).toBe(false);
      expect(later.revision).toBe(first.revision + 1);
    });

    it('finds a repeat whose events lie before the cached revision, reading from them on, not from the start', async () => {
      const { counting, handle } = setup();
      await open(handle);
      const first = await increment(handle, 10, { key: 'pay-1', requestHash: 'h1' });
      for (let i = 0; i < 20; i++) await increment(handle, 1);
      counting.take();

      expect(await increment(handle, 10, { key: 'pay-1', requestHash: 'h1' })).toEqual({
        ...first,
        replayed: true,
      });
      expect(counting.take()).toEqual([
        { streamId: 'counter-ada', fromRevision: 22, events: 0 },
        { streamId: 'counter-ada', fromRevision: 1, events: 21 },
      ]);
      await expect(increment(handle, 99, { key: 'pay-1', requestHash: 'other' })).rejects.toBeInstanceOf(
        IdempotencyKeyReusedError,
      );
    });

    it('finds a key another pipeline appended after its cached revision', async () => {
      const { inner, counting, handle } = setup();
      const otherProcess = createCommandHandler({ eventStore: inner, maxRetries: 5, backoffMs: 1 });
      await open(handle);
      await increment(handle, 1);
      const theirs = await increment(otherProcess, 10, { key: 'pay-2', requestHash: 'h2' });
      counting.take();

      expect(await increment(handle, 10, { key: 'pay-2', requestHash: 'h2' })).toEqual({
        ...theirs,
        replayed: true,
      });
      expect(counting.take()).toEqual([{ streamId: 'counter-ada', fromRevision: 2, events: 1 }]);
      expect(await inner.readStream('counter-ada')).toHaveLength(3);
    });

    it('keeps no stream with more keys than its budget: such a stream is read whole, as without a cache', async () => {
      // A cache of one stream holds 64 keys at most (KEYS_PER_STREAM).
      const { counting, handle } = setup({ stateCacheSize: 1 });
      await open(handle);
      for (let i = 0; i < 70; i++) await increment(handle, 1, { key: `k-${i}`, requestHash: 'h' });
      counting.take();
      await increment(handle, 1);
      expect(counting.take()).toEqual([{ streamId: 'counter-ada', fromRevision: 0, events: 71 }]);
    });
  });

  it('hands deciders a frozen state: one that changes the state it is given fails before appending', async () => {
    type Tally = { count: number };
    const mutating: Aggregate<{ type: 'Add' }, { type: 'Added'; data: { count: number } }, Tally> = {
      category: 'tally',
      decider: {
        initialState: { count: 0 },
        decide: (_, state) => {
          state.count += 1; // the bug: decide must not change its input
          return [{ type: 'Added', data: { count: state.count } }];
        },
        evolve: (_, event) => ({ count: event.data.count }),
      },
      parseEvent: (event) => event as { type: 'Added'; data: { count: number } },
    };
    const { inner, handle } = setup();
    await handle(mutating, 't', { type: 'Add' }, context());
    await expect(handle(mutating, 't', { type: 'Add' }, context())).rejects.toBeInstanceOf(TypeError);
    expect(await inner.readStream('tally-t')).toHaveLength(1);
  });

  it('given a stream that went back behind the cached revision (a store replaced or damaged), reads it again from the start', async () => {
    const first = createMemoryEventStore();
    const second = createMemoryEventStore();
    let current = first;
    const switching: EventStore = {
      ...first,
      readStream: (...args) => current.readStream(...args),
      append: (...args) => current.append(...args),
    };
    const handle = createCommandHandler({ eventStore: switching, maxRetries: 2, backoffMs: 1 });
    await open(handle);
    for (let i = 0; i < 5; i++) await increment(handle, 1);
    // The other store holds the counter at revision 1, total 7.
    await open(createCommandHandler({ eventStore: second, maxRetries: 0 }));
    await increment(createCommandHandler({ eventStore: second, maxRetries: 0 }), 7);
    current = second;

    expect(await increment(handle, 1)).toMatchObject({ revision: 2 });
    expect(await totalOf(second, 2)).toBe(8);
  });
});

describe('command pipeline, one command at a time per stream', () => {
  it('runs concurrent commands to one stream in turn: none conflicts, even with no retries', async () => {
    const { inner, handle } = setup({ maxRetries: 0 });
    await open(handle);
    const results = await Promise.all(Array.from({ length: 20 }, () => increment(handle, 1)));
    expect(results.map((r) => r.revision).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(await totalOf(inner, 20)).toBe(20);
  });

  it('without the queue, the same commands conflict (what the queue saves)', async () => {
    const { handle } = setup({ maxRetries: 0, onePerStream: false });
    await open(handle);
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => increment(handle, 1)));
    const conflicts = outcomes.filter(
      (o) => o.status === 'rejected' && o.reason instanceof ConcurrencyConflictError,
    );
    expect(conflicts.length).toBeGreaterThan(0);
  });

  it('runs commands to different streams concurrently', async () => {
    const inner = createMemoryEventStore();
    let inFlight = 0;
    let most = 0;
    const slow: EventStore = {
      ...inner,
      readStream: async (...args) => {
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        return inner.readStream(...args);
      },
    };
    const concurrent = createCommandHandler({ eventStore: slow, maxRetries: 0 });
    await Promise.all(['a', 'b', 'c'].map((id) => open(concurrent, id)));
    expect(most).toBe(3);
  });
});
