import { afterEach, describe, expect, it } from 'vitest';
import { EventStoreUnavailableError } from '../../infra/event-store/event-store.js';
import { createCheckpointWatch } from '../../projections/engine/checkpoint-watch.js';
import { COUNTERS, COUNTERS_PROJECTION } from '../../projections/engine/testing/fixture-projection.js';
import { counterDoc, fixtureQueryRoutes } from '../testing/fixture-query-routes.js';
import { type Harness, startReadApi } from '../testing/read-api-harness.js';

/**
 * x-min-position with the event store unreachable: the wait asks the log what the projection may
 * skip (projections/engine/skippable.ts). An outage there is a 503 with Retry-After, never a 500.
 */
let harness: Harness | undefined;
afterEach(() => harness?.close());

const unavailable = () => new EventStoreUnavailableError('UNAVAILABLE: Channel closed before call started');

const read = (h: Harness) => h.app.inject({ url: '/counters/c-1', headers: { 'x-min-position': '5' } });

describe('x-min-position with the event store unreachable', () => {
  it('answers 503 consistency-timeout when the log cannot be asked what the projection skips', async () => {
    const watch = createCheckpointWatch({
      skippable: () => Promise.reject(unavailable()),
      poll: { read: async () => undefined, when: () => false, minDelayMs: 1, maxDelayMs: 5 },
    });
    watch.advance(COUNTERS_PROJECTION, 3n);
    harness = await startReadApi({
      queries: [fixtureQueryRoutes],
      waitForCheckpoint: watch.waitFor,
      consistencyTimeoutMs: 50,
    });
    await harness.seed(COUNTERS, [counterDoc('c-1')]);
    const response = await read(harness);
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toMatch(/^\d+$/);
    expect(response.json()).toMatchObject({ type: 'urn:eventfold:problem:consistency-timeout' });
  });

  it('answers 503 event-store-unavailable, not 500, when the wait itself fails to reach the store', async () => {
    harness = await startReadApi({
      queries: [fixtureQueryRoutes],
      waitForCheckpoint: () => Promise.reject(unavailable()),
    });
    await harness.seed(COUNTERS, [counterDoc('c-1')]);
    const response = await read(harness);
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.headers['retry-after']).toMatch(/^\d+$/);
    expect(response.json()).toMatchObject({ type: 'urn:eventfold:problem:event-store-unavailable' });
  });
});
