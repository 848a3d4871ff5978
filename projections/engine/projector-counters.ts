import { performance } from 'node:perf_hooks';

/** What a projector counts as it runs. Plain numbers that only grow, for logs and metrics. */
export type ProjectorCounters = {
  /** Events handled and written (parked ones included), since this process started. */
  eventsProjected: number;
  /** Batches written. */
  batches: number;
  /** Events parked by this process. */
  parked: number;
  /** Writes that changed nothing because the document already reflected the event (replays). */
  duplicatesSkipped: number;
  /** Handler calls and batch writes tried again after a failure. */
  retries: number;
  /** After-flush hooks (cache refreshes) that failed or ran out of time. */
  afterFlushFailures: number;
  /** Times the projection stopped on an error and started again from its checkpoint. */
  restarts: number;
};

export const createCounters = (): ProjectorCounters => ({
  eventsProjected: 0,
  batches: 0,
  parked: 0,
  duplicatesSkipped: 0,
  retries: 0,
  afterFlushFailures: 0,
  restarts: 0,
});

/** Events per second over the last `windowMs` (or since the meter started, if that is shorter). */
export const createRateMeter = (windowMs = 10_000, now = () => performance.now()) => {
  const started = now();
  const samples: { at: number; count: number }[] = [];
  const drop = (at: number) => {
    while (samples.length > 0 && (samples[0] as { at: number }).at <= at - windowMs) samples.shift();
  };
  return {
    record(count: number): void {
      const at = now();
      samples.push({ at, count });
      drop(at);
    },
    perSecond(): number {
      const at = now();
      drop(at);
      const total = samples.reduce((sum, s) => sum + s.count, 0);
      const span = Math.max(1000, Math.min(windowMs, at - started));
      return (total * 1000) / span;
    },
  };
};

export type RateMeter = ReturnType<typeof createRateMeter>;
