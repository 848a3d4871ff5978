import { afterEach, describe, expect, it } from 'vitest';
import { COUNTERS, counterCacheKey } from '../../projections/engine/testing/fixture-projection.js';
import { counterDoc, fixtureQueryRoutes } from '../testing/fixture-query-routes.js';
import { type Harness, startReadApi } from '../testing/read-api-harness.js';

/** ETags on the query routes (read-api.ts registers @fastify/etag in their scope), on the fixture's. */
let harness: Harness;
afterEach(() => harness?.close());

const get = (url: string, headers: Record<string, string> = {}) =>
  harness.app.inject({ method: 'GET', url, headers });

describe('ETags', () => {
  it('answers a view without storage keys, with an ETag', async () => {
    harness = await startReadApi({ queries: [fixtureQueryRoutes] });
    await harness.seed(COUNTERS, [counterDoc('e-0', { total: 250, revision: 3 })]);
    const response = await get('/counters/e-0');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers.etag).toMatch(/^"[^"]+"$/);
    expect(response.json()).toEqual({
      counterId: 'e-0',
      owner: 'Ada',
      total: 250,
      status: 'open',
      revision: 3,
      openedAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
  });

  it('answers 304 to a current If-None-Match, and 200 once the document changed', async () => {
    harness = await startReadApi({ queries: [fixtureQueryRoutes] });
    await harness.seed(COUNTERS, [counterDoc('e-1', { revision: 1 })]);
    const first = await get('/counters/e-1');
    const etag = first.headers.etag as string;

    const again = await get('/counters/e-1', { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(etag);

    await harness.cache.set(
      counterCacheKey('e-1'),
      JSON.stringify(counterDoc('e-1', { revision: 2, total: 5 })),
      { version: 2, ttlSeconds: 60 },
    );
    const changed = await get('/counters/e-1', { 'if-none-match': etag });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
  });
});
