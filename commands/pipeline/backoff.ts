import { isEventStoreUnavailable } from '../../infra/event-store/event-store.js';
import { type Backoff, retry } from '../../infra/retry/backoff.js';

/**
 * The pipeline's pauses, drawn by the shared helper: full jitter (a random pause between 0 and its
 * cap) so callers retrying at the same moment spread out instead of colliding again. The cap after
 * the n-th failure is `baseMs` · 2^n, at most `baseMs` · 64: the first pause is up to twice the base.
 */
export const pipelineBackoff = (baseMs: number): Backoff => ({
  baseMs: 2 * baseMs,
  maxMs: 64 * baseMs,
  jitter: 'full',
});

/** How often, and how patiently, an operation is tried while the event store cannot be reached. */
export type UnavailableRetry = {
  /** Tries in all, the first included. */
  attempts: number;
  /** Base of the full-jitter pause between tries (see pipelineBackoff). */
  backoffMs: number;
};

/** Three tries, pausing at most 200 then 400 ms: an answer (503 at worst) within about a second. */
export const defaultUnavailableRetry: UnavailableRetry = { attempts: 3, backoffMs: 100 };

/**
 * Runs `operation`, and again after a pause when it failed with EventStoreUnavailableError, at
 * most `attempts` times in all; then the last error is thrown. Any other error is thrown at once.
 * Only for operations that are safe to repeat: reads, and appends that cannot land twice.
 */
export const retryWhileUnavailable = <T>(
  operation: () => Promise<T>,
  { attempts, backoffMs }: UnavailableRetry = defaultUnavailableRetry,
): Promise<T> =>
  retry(operation, { attempts, backoff: pipelineBackoff(backoffMs), isRetryable: isEventStoreUnavailable });
