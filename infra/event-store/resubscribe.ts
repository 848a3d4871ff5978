import { backoffDelayMs, sleep } from '../retry/backoff.js';

/**
 * Keeps a subscription going across transient failures. `open` is called again after each one and
 * must start from wherever its caller has got to (the caller updates that as it consumes items, and
 * because generators are lazy, every item yielded before the failure has been consumed by then).
 * Consecutive failures are bounded; an item arriving resets the count. Anything not transient, or
 * one failure too many, is thrown to the consumer, who can resubscribe from its own checkpoint.
 */
export type ResubscribeOptions = {
  isTransient: (error: unknown) => boolean;
  /** Consecutive transient failures tolerated before giving up. Default 5. */
  maxRetries?: number;
  /** Delay before the first retry, doubled for each further one. Default 200 ms. */
  backoffMs?: number;
  signal?: AbortSignal;
};

export async function* resubscribing<T>(
  open: () => AsyncIterable<T>,
  { isTransient, maxRetries = 5, backoffMs = 200, signal }: ResubscribeOptions,
): AsyncGenerator<T> {
  let failures = 0;
  while (!signal?.aborted) {
    try {
      for await (const item of open()) {
        failures = 0;
        yield item;
      }
      return;
    } catch (error) {
      if (signal?.aborted) return;
      failures += 1;
      if (!isTransient(error) || failures > maxRetries) throw error;
      // Doubling, bounded by maxRetries rather than by a cap, without jitter.
      await sleep(
        backoffDelayMs(failures, { baseMs: backoffMs, maxMs: Number.POSITIVE_INFINITY, jitter: 'none' }),
        signal,
      );
    }
  }
}
