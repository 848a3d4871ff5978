import { setTimeout as sleep } from 'node:timers/promises';

export type RetryPolicy = {
  /** Tries in all, the first included. */
  maxAttempts: number;
  /** The first pause; each next one doubles. */
  backoffMs: number;
};

/** Exponential, with jitter so instances that failed together do not retry together. */
export const backoffDelay = (attempt: number, baseMs: number): number =>
  baseMs * 2 ** Math.min(attempt - 1, 10) * (0.5 + Math.random() / 2);

/** Runs `attempt` until it succeeds or the policy's attempts run out, then throws the last error. */
export const withRetries = async <T>(
  policy: RetryPolicy,
  attempt: () => Promise<T> | T,
  onRetry: (error: unknown, attempt: number) => void,
): Promise<T> => {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (n >= policy.maxAttempts) throw error;
      onRetry(error, n);
      await sleep(backoffDelay(n, policy.backoffMs));
    }
  }
};
