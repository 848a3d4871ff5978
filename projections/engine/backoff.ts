import { type Backoff, retry } from '../../infra/retry/backoff.js';

export type RetryPolicy = {
  /** Tries in all, the first included. */
  maxAttempts: number;
  /** The first pause; each next one doubles. */
  backoffMs: number;
};

/**
 * The projector's pauses between tries, drawn by the shared helper: `backoffMs` doubled per failure
 * (at most 1024 times it), with equal jitter (half to all of it) so instances that failed together do
 * not retry together.
 */
export const projectorBackoff = (backoffMs: number): Backoff => ({
  baseMs: backoffMs,
  maxMs: 1024 * backoffMs,
  jitter: 'equal',
});

/** Runs `attempt` until it succeeds or the policy's attempts run out, then throws the last error. */
export const withRetries = <T>(
  policy: RetryPolicy,
  attempt: () => Promise<T> | T,
  onRetry: (error: unknown, attempt: number) => void,
): Promise<T> =>
  retry(() => attempt(), {
    attempts: policy.maxAttempts,
    backoff: projectorBackoff(policy.backoffMs),
    onRetry: (error, n) => onRetry(error, n),
  });
