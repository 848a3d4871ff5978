import { setTimeout as sleep } from 'node:timers/promises';
import { isEventStoreUnavailable } from '../../infra/event-store/event-store.js';

/**
 * Full jitter: a random pause between 0 and `baseMs` · 2^attempt (the exponent capped at 6), so
 * callers retrying at the same moment spread out instead of colliding again. `attempt` counts from 1.
 */
export const fullJitterMs = (baseMs: number, attempt: number): number =>
  Math.random() * baseMs * 2 ** Math.min(attempt, 6);

/** How often, and how patiently, an operation is tried while the event store cannot be reached. */
export type UnavailableRetry = {
  /** Tries in all, the first included. */
  attempts: number;
  /** Base of the full-jitter pause between tries. */
  backoffMs: number;
};

/** Three tries, pausing at most 200 then 400 ms: an answer (503 at worst) within about a second. */
export const defaultUnavailableRetry: UnavailableRetry = { attempts: 3, backoffMs: 100 };

/**
 * Runs `operation`, and again after a pause when it failed with EventStoreUnavailableError, at
 * most `attempts` times in all; then the last error is thrown. Any other error is thrown at once.
 * Only for operations that are safe to repeat: reads, and appends that cannot land twice.
 */
export const retryWhileUnavailable = async <T>(
  operation: () => Promise<T>,
  { attempts, backoffMs }: UnavailableRetry = defaultUnavailableRetry,
): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isEventStoreUnavailable(error) || attempt >= attempts) throw error;
      await sleep(fullJitterMs(backoffMs, attempt));
    }
  }
};
