import { describe, expect, it } from 'vitest';
import { backoffDelayMs, retry, sleep } from './backoff.js';

const always = (value: number) => () => value;
const backoff = { baseMs: 10, maxMs: 1_000 };

describe('backoffDelayMs', () => {
  it('doubles from baseMs with each attempt, without jitter, up to maxMs', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 100, 10_000].map((n) =>
      backoffDelayMs(n, { ...backoff, jitter: 'none' }),
    );
    expect(delays).toEqual([10, 20, 40, 80, 160, 320, 640, 1_000, 1_000, 1_000]);
  });

  it('grows with the attempt and never exceeds maxMs, whatever the jitter draws', () => {
    for (const jitter of ['full', 'equal', 'none'] as const) {
      const at = (n: number) => backoffDelayMs(n, { ...backoff, jitter }, always(0.999));
      for (let n = 1; n < 50; n++) {
        expect(at(n + 1)).toBeGreaterThanOrEqual(at(n));
        expect(at(n)).toBeLessThanOrEqual(1_000);
      }
    }
  });

  it('draws full jitter anywhere in [0, cap], and full is the default', () => {
    expect(backoffDelayMs(3, backoff, always(0))).toBe(0);
    expect(backoffDelayMs(3, backoff, always(0.5))).toBe(20);
    for (let i = 0; i < 1_000; i++) {
      const delay = backoffDelayMs(1 + (i % 12), { ...backoff, jitter: 'full' });
      const cap = Math.min(1_000, 10 * 2 ** (i % 12));
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(cap);
    }
  });

  it('draws equal jitter in [cap / 2, cap]', () => {
    expect(backoffDelayMs(2, { ...backoff, jitter: 'equal' }, always(0))).toBe(10);
    expect(backoffDelayMs(2, { ...backoff, jitter: 'equal' }, always(0.5))).toBe(15);
    expect(backoffDelayMs(20, { ...backoff, jitter: 'equal' }, always(0))).toBe(500);
  });

  it('stays finite and within bounds at the edges: attempt 0, huge attempts, a zero base', () => {
    expect(backoffDelayMs(0, { ...backoff, jitter: 'none' })).toBe(10);
    expect(backoffDelayMs(Number.MAX_SAFE_INTEGER, { ...backoff, jitter: 'none' })).toBe(1_000);
    expect(backoffDelayMs(1e6, { baseMs: 0, maxMs: 1_000, jitter: 'none' })).toBe(0);
    expect(backoffDelayMs(5, { baseMs: 1e300, maxMs: Number.POSITIVE_INFINITY, jitter: 'none' })).toBe(
      1e300 * 16,
    );
  });
});

describe('sleep', () => {
  it('resolves after the pause', async () => {
    const started = performance.now();
    await sleep(20);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('resolves as soon as the signal aborts, and at once when it already has', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const pending = sleep(60_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    await pending;
    expect(performance.now() - started).toBeLessThan(5_000);
    await sleep(60_000, controller.signal);
  });

  it('does not keep the process alive with ref: false', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const controller = new AbortController();
    const before = timers();
    const kept = sleep(60_000, controller.signal);
    expect(timers()).toBe(before + 1);
    const unref = sleep(60_000, controller.signal, { ref: false });
    expect(timers()).toBe(before + 1);
    controller.abort();
    await Promise.all([kept, unref]);
    expect(timers()).toBe(before);
  });
});

describe('retry', () => {
  const fast = { baseMs: 1, maxMs: 2 };

  it('returns the first success, with the number of the try', async () => {
    const tries: number[] = [];
    const result = await retry(
      (attempt) => {
        tries.push(attempt);
        if (attempt < 3) throw new Error(`try ${attempt}`);
        return 'done';
      },
      { attempts: 5, backoff: fast },
    );
    expect(result).toBe('done');
    expect(tries).toEqual([1, 2, 3]);
  });

  it('stops at `attempts` and throws the last error; onRetry hears every failure but the last', async () => {
    let tries = 0;
    const heard: Array<[string, number]> = [];
    await expect(
      retry(
        async () => {
          tries++;
          throw new Error(`try ${tries}`);
        },
        {
          attempts: 3,
          backoff: fast,
          onRetry: (error, attempt) => heard.push([(error as Error).message, attempt]),
        },
      ),
    ).rejects.toThrow('try 3');
    expect(tries).toBe(3);
    expect(heard).toEqual([
      ['try 1', 1],
      ['try 2', 2],
    ]);
  });

  it('always tries once, even with attempts below one', async () => {
    let tries = 0;
    await expect(
      retry(
        () => {
          tries++;
          throw new Error('no');
        },
        { attempts: 0, backoff: fast },
      ),
    ).rejects.toThrow('no');
    expect(tries).toBe(1);
  });

  it('throws a non-retryable error at once', async () => {
    class Fatal extends Error {}
    let tries = 0;
    await expect(
      retry(
        () => {
          tries++;
          throw tries === 1 ? new Error('transient') : new Fatal('fatal');
        },
        { attempts: 10, backoff: fast, isRetryable: (error) => !(error instanceof Fatal) },
      ),
    ).rejects.toThrow(Fatal);
    expect(tries).toBe(2);
  });

  it('pauses with the backoff between tries, and stops when the signal aborts during a pause', async () => {
    const controller = new AbortController();
    const delays: number[] = [];
    let tries = 0;
    const started = performance.now();
    const pending = retry(
      () => {
        tries++;
        throw new Error(`try ${tries}`);
      },
      {
        attempts: 10,
        backoff: { baseMs: 60_000, maxMs: 60_000, jitter: 'none' },
        signal: controller.signal,
        onRetry: (_error, _attempt, delayMs) => delays.push(delayMs),
      },
    );
    setTimeout(() => controller.abort(), 10);
    await expect(pending).rejects.toThrow('try 1');
    expect(tries).toBe(1);
    expect(delays).toEqual([60_000]);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
