import { afterEach, describe, expect, it } from 'vitest';
import { EventStoreUnavailableError } from '../../infra/event-store/event-store.js';
import { ACCOUNTS_PROJECTION } from '../../projections/accounts/accounts-projection.js';
import { createCheckpointWatch } from '../../projections/engine/checkpoint-watch.js';
import { accountQueries } from '../accounts/index.js';
import { accountDoc, type Harness, startReadApi } from '../testing/read-api-harness.js';

/**
 * x-min-position with the event store unreachable: the wait asks the log what the projection may
 * skip (projections/engine/skippable.ts). An outage there is a 503 with Retry-After, never a 500.
 */
let harness: Harness | undefined;
afterEach(() => harness?.close());

const unavailable = () => new EventStoreUnavailableError('UNAVAILABLE: Channel closed before call started');

const read = (h: Harness) => h.app.inject({ url: '/accounts/a-1', headers: { 'x-min-position': '5' } });

describe('x-min-position with the event store unreachable', () => {
  it('answers 503 consistency-timeout when the log cannot be asked what the projection skips', async () => {
    const watch = createCheckpointWatch({
      skippable: () => Promise.reject(unavailable()),
      poll: { read: async () => undefined, when: () => false, minDelayMs: 1, maxDelayMs: 5 },
    });
    watch.advance(ACCOUNTS_PROJECTION, 3n);
    harness = await startReadApi({
      queries: [accountQueries],
      waitForCheckpoint: watch.waitFor,
      consistencyTimeoutMs: 50,
    });
    await harness.seedAccounts([accountDoc('a-1')]);
    const response = await read(harness);
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toMatch(/^\d+$/);
    expect(response.json()).toMatchObject({ type: 'urn:eventfold:problem:consistency-timeout' });
  });

  it('answers 503 event-store-unavailable, not 500, when the wait itself fails to reach the store', async () => {
    harness = await startReadApi({
      queries: [accountQueries],
      waitForCheckpoint: () => Promise.reject(unavailable()),
    });
    await harness.seedAccounts([accountDoc('a-1')]);
    const response = await read(harness);
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.headers['retry-after']).toMatch(/^\d+$/);
    expect(response.json()).toMatchObject({ type: 'urn:eventfold:problem:event-store-unavailable' });
  });
});
