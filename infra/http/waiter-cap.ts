import { HttpProblem } from './problem-details.js';

/**
 * A bound on requests that wait (Prefer: wait, x-min-position): each holds a connection and a
 * timer for up to its timeout, so without a bound a burst of them would take every connection the
 * server allows (HTTP_MAX_CONNECTIONS) and starve the requests that do not wait.
 */
export type WaiterCap = {
  /** A slot, with the function that gives it back (call it once), or undefined when all are taken. */
  take(): (() => void) | undefined;
  /** Slots taken right now. */
  readonly waiting: number;
  readonly max: number;
};

export const createWaiterCap = (max: number): WaiterCap => {
  let waiting = 0;
  return {
    take() {
      if (waiting >= max) return undefined;
      waiting++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        waiting--;
      };
    },
    get waiting() {
      return waiting;
    },
    max,
  };
};

/** Seconds a refused waiter is asked to wait before it tries again: the others' waits end by then, or soon. */
const RETRY_AFTER_SECONDS = '1';

/** The answer to a request refused a slot: nothing was done for it, so retrying is safe. */
export const tooManyWaiters = (what: string, max: number) =>
  new HttpProblem(
    503,
    'too-many-waiters',
    'Too many waiting requests',
    `${max} requests are already waiting for ${what}; nothing was done for this one, retry later`,
    { 'retry-after': RETRY_AFTER_SECONDS },
  );
