/**
 * The one retry/backoff helper of the codebase: every pause between tries (conflicting appends, an
 * unreachable store, a failing projection handler, a dropped subscription, a poll, a reconnect) is
 * computed by `backoffDelayMs` and waited for with `sleep`. It lives in infra/ because infra/ may not
 * import from the layers above it, while they all may import from infra/.
 */

/**
 * How a pause is drawn from its exponential cap (`baseMs` · 2^(attempt − 1), at most `maxMs`):
 * - `full`: anywhere in [0, cap]. Spreads out callers that failed together the most; the default.
 * - `equal`: in [cap / 2, cap]. Spreads them out, but never retries at once.
 * - `none`: the cap itself, for a single caller that has no one to collide with (a poll, a reconnect).
 */
export type Jitter = 'full' | 'equal' | 'none';

export type Backoff = {
  /** The cap of the first pause (after the first failure); each further one doubles it. */
  baseMs: number;
  /** No pause is longer than this. */
  maxMs: number;
  /** Default `full`. */
  jitter?: Jitter;
};

/** Beyond this the doubling is moot (2^64 · any sensible base exceeds any sensible maximum). */
const MAX_EXPONENT = 64;

/**
 * The pause before the next try, after `attempt` failures (`attempt` counts from 1): its cap is
 * `baseMs` · 2^(attempt − 1), never above `maxMs`; `jitter` draws the pause from that cap with
 * `random` (a function returning [0, 1), like Math.random, which is the default).
 */
export const backoffDelayMs = (
  attempt: number,
  { baseMs, maxMs, jitter = 'full' }: Backoff,
  random: () => number = Math.random,
): number => {
  const exponent = Math.min(Math.max(Math.floor(attempt) - 1, 0), MAX_EXPONENT);
  const cap = Math.max(0, Math.min(maxMs, baseMs * 2 ** exponent));
  switch (jitter) {
    case 'full':
      return random() * cap;
    case 'equal':
      return cap * (0.5 + random() / 2);
    case 'none':
      return cap;
  }
};

export type SleepOptions = {
  /** false: the pending pause does not keep the process alive on its own (setTimeout's unref). Default true. */
  ref?: boolean;
};

/**
 * Resolves after `ms`, or as soon as `signal` aborts (at once if it already has). It never rejects:
 * a caller that must know whether it was woken early looks at `signal.aborted`.
 */
export const sleep = (ms: number, signal?: AbortSignal, { ref = true }: SleepOptions = {}): Promise<void> =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    if (!ref) timer.unref();
    signal?.addEventListener('abort', done, { once: true });
  });

export type RetryOptions = {
  /** Tries in all, the first included (at least one try is always made). */
  attempts: number;
  backoff: Backoff;
  /** Whether a failure may be tried again; any other error is thrown at once. Default: every error. */
  isRetryable?: (error: unknown) => boolean;
  /** Aborting stops the retries: a pending pause ends and the last error is thrown. */
  signal?: AbortSignal;
  /** Hears each failure that will be tried again, before the pause. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Default Math.random. */
  random?: () => number;
};

/**
 * Runs `operation` (given the number of this try, from 1) until it succeeds, pausing between tries
 * with `backoff`. Throws the last error when the attempts run out, when the error is not retryable,
 * or when `signal` aborts. Only for operations that are safe to repeat.
 */
export const retry = async <T>(
  operation: (attempt: number) => Promise<T> | T,
  { attempts, backoff, isRetryable = () => true, signal, onRetry, random = Math.random }: RetryOptions,
): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= attempts || signal?.aborted || !isRetryable(error)) throw error;
      const delayMs = backoffDelayMs(attempt, backoff, random);
      onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, signal);
      if (signal?.aborted) throw error;
    }
  }
};
