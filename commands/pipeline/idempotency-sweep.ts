import type { EventStore } from '../../infra/event-store/event-store.js';
import { IDEMPOTENCY_STREAM_PREFIX } from './idempotency.js';

export type IdempotencySweep = {
  /** One pass now (or the one under way): how many record streams it deleted. */
  sweep(): Promise<number>;
  /** No pass after this; waits for one under way. */
  stop(): Promise<void>;
};

/** Between passes: a 24th of the retention (an hour for 24 hours), kept between these. */
const MIN_INTERVAL_MS = 250;
const MAX_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Deletes idempotency records past their retention, so that the embedded stores do not grow with
 * every key ever used: at start, then every `intervalMs`, on a timer that keeps no process alive.
 * A record is gone at most one interval after it expired; until then `find` ignores it anyway.
 * Only stores that delete streams (expireStreams) are swept; on EventStoreDB record streams carry
 * `$maxAge` instead (idempotency.ts, and what it does not reclaim). A pass that fails is reported
 * and tried again at the next interval: nothing depends on it but disk space.
 */
export const startIdempotencySweep = ({
  eventStore,
  retentionMs,
  intervalMs = Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, Math.round(retentionMs / 24))),
  now = () => new Date(),
  onSwept,
  onError,
}: {
  eventStore: EventStore;
  retentionMs: number;
  intervalMs?: number;
  now?: () => Date;
  onSwept?: (expired: number, ms: number) => void;
  onError?: (error: unknown) => void;
}): IdempotencySweep => {
  const expireStreams = eventStore.expireStreams?.bind(eventStore);
  if (!expireStreams) return { sweep: async () => 0, stop: async () => {} };

  let running: Promise<number> | undefined;
  let stopped = false;
  const sweep = () => {
    running ??= (async () => {
      const started = performance.now();
      const expired = await expireStreams(IDEMPOTENCY_STREAM_PREFIX, new Date(now().getTime() - retentionMs));
      onSwept?.(expired, Math.round(performance.now() - started));
      return expired;
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  const pass = () => {
    if (!stopped) sweep().catch((error: unknown) => onError?.(error));
  };

  pass();
  const timer = setInterval(pass, intervalMs);
  timer.unref();

  return {
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
};
