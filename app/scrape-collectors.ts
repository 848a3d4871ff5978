import { Counter, Gauge, type Registry } from 'prom-client';
import type { Readiness } from '../infra/health/readiness.js';
import type { ProjectionStats } from '../projections/engine/projector.js';
import type { ReadStats } from '../read-api/read-stats.js';

/**
 * Series read from counters the components already keep, at scrape time: nothing is threaded
 * through the layers, and a scrape costs what reading the stats costs.
 */

/** Concurrent callers share one call in flight: a scrape reads the stats once for all its series. */
const singleFlight = <T>(read: () => Promise<T>) => {
  let inFlight: Promise<T> | undefined;
  return () => {
    inFlight ??= read().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
};

/** A counter with one series per `result`, read from a snapshot of counts at each scrape. */
const resultCounter = (
  registry: Registry,
  name: string,
  help: string,
  counts: () => Record<string, number>,
) =>
  new Counter({
    name,
    help,
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      const current = counts();
      this.reset();
      for (const [result, count] of Object.entries(current)) this.inc({ result }, count);
    },
  });

/** The read API's cache and consistency counters (read-api/read-stats.ts). */
export const registerReadApiMetrics = (registry: Registry, stats: () => ReadStats) => {
  resultCounter(
    registry,
    'eventfold_read_cache_total',
    'Read API cache lookups and write-backs: hit, miss, fill, error (failed or timed out), invalid',
    () => {
      const s = stats();
      return {
        hit: s.cacheHits,
        miss: s.cacheMisses,
        fill: s.cacheFills,
        error: s.cacheErrors,
        invalid: s.cacheInvalid,
      };
    },
  );
  resultCounter(
    registry,
    'eventfold_read_consistency_waits_total',
    'Reads that waited for x-min-position, by how the wait ended: reached, timeout (503), aborted',
    () => {
      const s = stats();
      return {
        reached: s.consistencyWaits - s.consistencyTimeouts - s.consistencyAborts,
        timeout: s.consistencyTimeouts,
        aborted: s.consistencyAborts,
      };
    },
  );
  new Counter({
    name: 'eventfold_read_invalid_documents_total',
    help: 'Read-model documents that did not make a valid view: logged with their id, answered as absent',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats().invalidDocuments);
    },
  });
};

type NumericKey = {
  [K in keyof ProjectionStats]: ProjectionStats[K] extends number ? K : never;
}[keyof ProjectionStats];

/** One series per projection for each counter the projector keeps (projector-counters.ts). */
const PROJECTOR_COUNTERS: readonly [name: string, help: string, key: NumericKey][] = [
  [
    'eventfold_projection_events_total',
    'Events projected by this process (parked ones included)',
    'eventsProjected',
  ],
  ['eventfold_projection_batches_total', 'Batches written by this process', 'batches'],
  ['eventfold_projection_parked_total', 'Events parked by this process', 'parked'],
  [
    'eventfold_projection_duplicates_skipped_total',
    'Writes skipped because the read model already reflected the event (replays)',
    'duplicatesSkipped',
  ],
  ['eventfold_projection_retries_total', 'Handler calls and batch writes tried again', 'retries'],
  [
    'eventfold_projection_cache_refresh_failures_total',
    'After-flush cache refreshes that failed or timed out (the projection went on)',
    'afterFlushFailures',
  ],
  [
    'eventfold_projection_restarts_total',
    'Times a projection restarted from its checkpoint after an error',
    'restarts',
  ],
];

/** Each projection's lag, rate, lease, parked events and counters, from the projector's stats(). */
export const registerProjectionMetrics = (registry: Registry, stats: () => Promise<ProjectionStats[]>) => {
  const read = singleFlight(stats);
  const gauge = (name: string, help: string, value: (s: ProjectionStats) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['projection'] as const,
      registers: [registry],
      async collect() {
        const all = await read();
        this.reset();
        for (const s of all) this.set({ projection: s.projection }, value(s));
      },
    });

  gauge(
    'eventfold_projection_lag_events',
    'Events in $all after the stored checkpoint (counted up to a limit, 1000 by default)',
    (s) => s.lag.events,
  );
  gauge(
    'eventfold_projection_events_per_second',
    'Events projected per second by this process over the last ten seconds',
    (s) => s.eventsPerSecond,
  );
  gauge(
    'eventfold_projection_leading',
    '1 while this process holds the projection lease and projects; 0 while it stands by',
    (s) => (s.leading ? 1 : 0),
  );
  gauge(
    'eventfold_projection_parked_events',
    'Parked events of the projection waiting for a fix and a replay (all instances)',
    (s) => s.parkedWaiting,
  );
  for (const [name, help, key] of PROJECTOR_COUNTERS)
    new Counter({
      name,
      help,
      labelNames: ['projection'] as const,
      registers: [registry],
      async collect() {
        const all = await read();
        this.reset();
        for (const s of all) this.inc({ projection: s.projection }, s[key]);
      },
    });
};

/**
 * Readiness as series, checked at scrape time, so an alert sees a process that is not ready even
 * when nothing polls /health/ready. A scrape runs the checks once (each bounded by
 * READY_CHECK_TIMEOUT_MS), as an orchestrator's probe does.
 */
export const registerReadinessMetrics = (registry: Registry, readiness: Readiness) => {
  const read = singleFlight(() => readiness.check());
  new Gauge({
    name: 'eventfold_ready',
    help: '1 while /health/ready would answer 200; 0 while a critical check fails or the process drains',
    registers: [registry],
    async collect() {
      this.set((await read()).ready ? 1 : 0);
    },
  });
  new Gauge({
    name: 'eventfold_readiness_check_up',
    help: 'Each readiness check: 1 while up, 0 while degraded or down (critical says which make the process not ready)',
    labelNames: ['check', 'critical'] as const,
    registers: [registry],
    async collect() {
      const { checks } = await read();
      this.reset();
      for (const [check, report] of Object.entries(checks))
        this.set({ check, critical: String(report.critical) }, report.status === 'up' ? 1 : 0);
    },
  });
};
