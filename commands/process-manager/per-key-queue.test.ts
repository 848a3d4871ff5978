import { describe, expect, it } from 'vitest';
import { createLogger } from '../../infra/logger.js';
import { retryDelayBefore } from './deadline.js';
import { type AdvanceContext, createPerKeyQueue } from './per-key-queue.js';

const silent = createLogger({ level: 'silent' });

/** A queue whose passes wait until the test lets them finish (or fail). */
const harness = () => {
  const passes: { key: string; finish: () => void; fail: () => void; context: AdvanceContext }[] = [];
  const done: bigint[] = [];
  const ended = new AbortController();
  const queue = createPerKeyQueue({
    advance: (key, context) =>
      new Promise<void>((resolve, reject) => {
        passes.push({ key, finish: resolve, fail: () => reject(new Error('step failed')), context });
      }),
    done: (position) => done.push(position),
    retryDelay: () => 1,
    ended: ended.signal,
    logger: silent,
    onPassEnded: () => {},
  });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
  return { queue, passes, done, settle };
};

describe('per-key queue', () => {
  it('runs one pass at a time per key, keys side by side', async () => {
    const { queue, passes } = harness();
    queue.schedule('a', 1n);
    queue.schedule('b', 2n);
    queue.schedule('a', 3n);
    expect(passes.map((p) => p.key)).toEqual(['a', 'b']);
    expect(queue.running).toBe(2);
  });

  it('covers the events that came during a pass with one more pass, then marks them done', async () => {
    const { queue, passes, done, settle } = harness();
    queue.schedule('a', 1n);
    queue.schedule('a', 2n);
    queue.schedule('a', 3n);
    passes[0]?.finish();
    await settle();
    expect(done).toEqual([1n]);
    expect(passes).toHaveLength(2);
    passes[1]?.finish();
    await settle();
    expect(done).toEqual([1n, 2n, 3n]);
    expect(queue.running).toBe(0);
  });

  it('retries a failed pass after its delay, still covering its events', async () => {
    const { queue, passes, done, settle } = harness();
    queue.schedule('a', 1n);
    passes[0]?.fail();
    await settle();
    expect(done).toEqual([]);
    expect(passes).toHaveLength(2);
    passes[1]?.finish();
    await settle();
    expect(done).toEqual([1n]);
  });

  it('hands the key deadline to retryDelay, and retries nothing once ended', async () => {
    const seen: [number, number | undefined][] = [];
    const ended = new AbortController();
    const queue = createPerKeyQueue({
      advance: async (_key, context) => {
        context.setDeadline(1_000);
        throw new Error('step failed');
      },
      done: () => {},
      retryDelay: (failures, deadline) => {
        seen.push([failures, deadline]);
        if (failures >= 2) ended.abort();
        return 1;
      },
      ended: ended.signal,
      logger: silent,
      onPassEnded: () => {},
    });
    queue.schedule('a', 1n);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual([
      [1, 1_000],
      [2, 1_000],
    ]);
    expect(queue.running).toBe(0);
  });
});

describe('retry delay before a deadline', () => {
  it('is the backoff, cut short by a deadline that comes first', () => {
    expect(retryDelayBefore(500, undefined, 0)).toBe(500);
    expect(retryDelayBefore(500, 1_000, 0)).toBe(500);
    expect(retryDelayBefore(500, 1_000, 800)).toBe(200);
  });

  it('is the backoff again once the deadline has passed', () => {
    expect(retryDelayBefore(500, 1_000, 1_000)).toBe(500);
    expect(retryDelayBefore(500, 1_000, 5_000)).toBe(500);
  });

  it('is nothing after a pass that began before the deadline and failed after it: the next pass judges it', () => {
    expect(retryDelayBefore(60_000, 1_000, 1_200, 900)).toBe(0);
    expect(retryDelayBefore(60_000, 1_000, 1_200, 1_100)).toBe(60_000);
  });
});
