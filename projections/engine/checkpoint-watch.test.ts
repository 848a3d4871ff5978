import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createCheckpointWatch } from './checkpoint-watch.js';

describe('checkpoint watch', () => {
  it('answers at once for a position already reached, and wakes waiters when it is', async () => {
    const watch = createCheckpointWatch();
    watch.advance('p', 5n);
    expect(await watch.waitFor('p', 5n, { timeoutMs: 10_000 })).toBe(true);
    const later = watch.waitFor('p', 8n, { timeoutMs: 10_000 });
    watch.advance('p', 7n);
    watch.advance('p', 9n);
    expect(await later).toBe(true);
    expect(watch.latest('p')).toBe(9n);
  });

  it('never moves back', () => {
    const watch = createCheckpointWatch();
    watch.advance('p', 9n);
    watch.advance('p', 3n);
    expect(watch.latest('p')).toBe(9n);
  });

  it('answers false on timeout and on abort', async () => {
    const watch = createCheckpointWatch();
    expect(await watch.waitFor('p', 1n, { timeoutMs: 1 })).toBe(false);
    const stop = new AbortController();
    const waiting = watch.waitFor('p', 1n, { timeoutMs: 10_000, signal: stop.signal });
    stop.abort();
    expect(await waiting).toBe(false);
    expect(await watch.waitFor('p', 1n, { timeoutMs: 10_000, signal: stop.signal })).toBe(false);
  });

  it('polls the stored checkpoint while told to, and only while someone waits', async () => {
    let stored: bigint | undefined;
    let reads = 0;
    const watch = createCheckpointWatch({
      poll: {
        read: async () => {
          reads++;
          return stored;
        },
        when: () => true,
        minDelayMs: 1,
        maxDelayMs: 2,
      },
    });
    const waiting = watch.waitFor('p', 4n, { timeoutMs: 10_000 });
    stored = 4n;
    expect(await waiting).toBe(true);
    expect(reads).toBeGreaterThan(0);
    // No one waits any more: the poll loop has ended, and reads nothing while time passes.
    const readsWhenAnswered = reads;
    await sleep(30);
    expect(reads).toBe(readsWhenAnswered);
  });

  it('does not poll a projection while `when` says this process projects it', async () => {
    let reads = 0;
    const watch = createCheckpointWatch({
      poll: {
        read: async () => {
          reads++;
          return 4n;
        },
        when: () => false,
        minDelayMs: 1,
        maxDelayMs: 2,
      },
    });
    expect(await watch.waitFor('p', 4n, { timeoutMs: 30 })).toBe(false);
    expect(reads).toBe(0);
  });

  it('keeps a listener that throws from stopping the others or the advance', async () => {
    const errors: unknown[] = [];
    const watch = createCheckpointWatch({ onError: (error) => errors.push(error) });
    const heard: bigint[] = [];
    watch.onAdvance(() => {
      throw new Error('listener bug');
    });
    const unsubscribe = watch.onAdvance((_, position) => heard.push(position));
    watch.advance('p', 1n);
    unsubscribe();
    watch.advance('p', 2n);
    expect(heard).toEqual([1n]);
    expect(errors).toHaveLength(2);
    expect(watch.latest('p')).toBe(2n);
  });

  it('ends a wait for a position the projection skips, without moving its checkpoint', async () => {
    const asked: Array<bigint | undefined> = [];
    const watch = createCheckpointWatch({
      skippable: async (_, after) => {
        asked.push(after);
        return 7n; // nothing the projection reads up to 7
      },
      poll: { read: async () => undefined, when: () => false, minDelayMs: 1, maxDelayMs: 2 },
    });
    watch.advance('p', 3n);
    expect(await watch.waitFor('p', 6n, { timeoutMs: 10_000 })).toBe(true);
    expect(asked[0]).toBe(3n);
    expect(watch.latest('p')).toBe(3n);
    // Beyond what is skippable, the wait goes on until the checkpoint gets there.
    expect(await watch.waitFor('p', 9n, { timeoutMs: 30 })).toBe(false);
  });
});
