import { describe, expect, it } from 'vitest';
import { resubscribing } from './resubscribe.js';

class Transient extends Error {}

/**
 * Subscribes to a scripted source: its n-th opening replays `log` after the consumer's last item and
 * fails with `failures[n]` (if any) after `failAfter` items. Returns what the consumer saw and threw.
 */
const run = async (log: number[], failures: Array<Error | undefined>, failAfter = 2, maxRetries = 3) => {
  const seen: number[] = [];
  let openings = 0;
  const open = async function* () {
    const failure = failures[openings++];
    let sent = 0;
    for (const n of log.filter((n) => n > (seen.at(-1) ?? 0))) {
      if (failure && sent === failAfter) throw failure;
      sent += 1;
      yield n;
    }
  };
  const isTransient = (e: unknown) => e instanceof Transient;
  try {
    for await (const n of resubscribing(open, { isTransient, maxRetries, backoffMs: 1 })) seen.push(n);
    return { seen, openings };
  } catch (error) {
    return { seen, openings, error };
  }
};

describe('resubscribing', () => {
  it('reopens after transient failures, from where the consumer got to', async () => {
    const result = await run([1, 2, 3, 4, 5, 6, 7], [new Transient(), new Transient()]);
    expect(result).toEqual({ seen: [1, 2, 3, 4, 5, 6, 7], openings: 3 });
  });

  it('throws a failure that is not transient at once', async () => {
    const boom = new Error('boom');
    expect(await run([1, 2, 3], [boom])).toEqual({ seen: [1, 2], openings: 1, error: boom });
  });

  it('gives up after too many failures in a row, but counts only failures without progress', async () => {
    const failing = new Transient();
    // Each opening delivers two items before failing: progress each time, so it never gives up.
    expect(await run([1, 2, 3, 4, 5, 6, 7, 8, 9], Array(4).fill(failing))).toMatchObject({ openings: 5 });
    // Each opening fails before its first item: four failures in a row are one too many.
    expect(await run([1, 2, 3], Array(10).fill(failing), 0, 3)).toEqual({
      seen: [],
      openings: 4,
      error: failing,
    });
  });

  it('ends without reopening when the signal aborts during a backoff', async () => {
    const controller = new AbortController();
    let openings = 0;
    // biome-ignore lint/correctness/useYield: a source that fails before its first item
    const open = async function* () {
      openings += 1;
      controller.abort();
      throw new Transient();
    };
    const seen: unknown[] = [];
    const options = { isTransient: () => true, backoffMs: 60_000, signal: controller.signal };
    for await (const n of resubscribing(open, options)) seen.push(n);
    expect({ seen, openings }).toEqual({ seen: [], openings: 1 });
  });
});
