import { describe, expect, it } from 'vitest';
import { createReadiness } from '../infra/health/readiness.js';
import { createMetrics } from '../infra/metrics/metrics.js';
import {
  registerProjectionMetrics,
  registerReadApiMetrics,
  registerReadinessMetrics,
} from './scrape-collectors.js';

/** The value of one sample line, e.g. `name{a="b"} 3`; undefined when the series is absent. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('scrape collectors', () => {
  it('reads the read API and projector stats at scrape time, once per scrape', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const read = {
      cacheHits: 7,
      cacheMisses: 3,
      cacheFills: 2,
      cacheErrors: 1,
      cacheInvalid: 0,
      consistencyWaits: 5,
      consistencyTimeouts: 1,
      consistencyAborts: 1,
      invalidDocuments: 2,
    };
    registerReadApiMetrics(metrics.registry, () => read);
    let projectionReads = 0;
    registerProjectionMetrics(metrics.registry, async () => {
      projectionReads++;
      return [
        {
          projection: 'accounts',
          leading: true,
          checkpoint: '10',
          head: '12',
          lag: { events: 2, atLeast: false },
          eventsPerSecond: 12.5,
          parkedWaiting: 1,
          eventsProjected: 100,
          batches: 4,
          parked: 1,
          duplicatesSkipped: 3,
          retries: 2,
          afterFlushFailures: 5,
          restarts: 0,
        },
      ];
    });
    let text = await metrics.registry.metrics();
    expect(projectionReads).toBe(1);
    expect(sample(text, 'eventfold_read_cache_total{result="hit"}')).toBe(7);
    expect(sample(text, 'eventfold_read_cache_total{result="miss"}')).toBe(3);
    expect(sample(text, 'eventfold_read_cache_total{result="error"}')).toBe(1);
    expect(sample(text, 'eventfold_read_consistency_waits_total{result="reached"}')).toBe(3);
    expect(sample(text, 'eventfold_read_consistency_waits_total{result="timeout"}')).toBe(1);
    expect(sample(text, 'eventfold_read_invalid_documents_total')).toBe(2);
    expect(sample(text, 'eventfold_projection_lag_events{projection="accounts"}')).toBe(2);
    expect(sample(text, 'eventfold_projection_events_per_second{projection="accounts"}')).toBe(12.5);
    expect(sample(text, 'eventfold_projection_leading{projection="accounts"}')).toBe(1);
    expect(sample(text, 'eventfold_projection_parked_events{projection="accounts"}')).toBe(1);
    expect(sample(text, 'eventfold_projection_events_total{projection="accounts"}')).toBe(100);
    expect(sample(text, 'eventfold_projection_cache_refresh_failures_total{projection="accounts"}')).toBe(5);

    // Counters follow the component's counters; they are not added up scrape after scrape.
    read.cacheHits = 9;
    text = await metrics.registry.metrics();
    expect(sample(text, 'eventfold_read_cache_total{result="hit"}')).toBe(9);
    expect(sample(text, 'eventfold_projection_events_total{projection="accounts"}')).toBe(100);
    expect(projectionReads).toBe(2);
  });

  it('runs the readiness checks at scrape time, once per scrape, and reports each and the whole', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let runs = 0;
    let eventStoreUp = true;
    const readiness = createReadiness({
      timeoutMs: 1000,
      checks: [
        {
          name: 'eventStore',
          critical: true,
          async run() {
            runs++;
            if (!eventStoreUp) throw new Error('unreachable');
            return { status: 'up' };
          },
        },
        { name: 'cache', critical: false, run: async () => ({ status: 'degraded' }) },
      ],
    });
    registerReadinessMetrics(metrics.registry, readiness);

    let text = await metrics.registry.metrics();
    expect(runs).toBe(1);
    expect(sample(text, 'eventfold_ready')).toBe(1);
    expect(sample(text, 'eventfold_readiness_check_up{check="eventStore",critical="true"}')).toBe(1);
    expect(sample(text, 'eventfold_readiness_check_up{check="cache",critical="false"}')).toBe(0);

    eventStoreUp = false;
    text = await metrics.registry.metrics();
    expect(runs).toBe(2);
    expect(sample(text, 'eventfold_ready')).toBe(0);
    expect(sample(text, 'eventfold_readiness_check_up{check="eventStore",critical="true"}')).toBe(0);

    // Draining: not ready whatever the checks say, and no check left to report.
    eventStoreUp = true;
    readiness.drain();
    text = await metrics.registry.metrics();
    expect(sample(text, 'eventfold_ready')).toBe(0);
    expect(text).not.toContain('eventfold_readiness_check_up{');
  });
});
