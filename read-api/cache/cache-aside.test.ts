import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Cache } from '../../infra/cache/cache.js';
import { createLruCache } from '../../infra/cache/lru-cache.js';
import { createRedisCache } from '../../infra/cache/redis-cache.js';
import {
  type RedisServer,
  redisServerAvailable,
  startRedisServer,
} from '../../infra/cache/testing/redis-server.js';
import { COUNTERS, counterCacheKey } from '../../projections/engine/testing/fixture-projection.js';
import { counterDoc, fixtureQueryRoutes } from '../testing/fixture-query-routes.js';
import { type Harness, startReadApi } from '../testing/read-api-harness.js';

/**
 * Cache-aside on the read path (cache-aside.ts), through the fixture's GET /counters/:id: a miss
 * reads the read model and fills the cache with the document's revision as the entry's version; a
 * hit answers from the cache alone; an unreadable entry is a miss; a stopped Redis is a miss too.
 */
let harness: Harness | undefined;
afterEach(() => harness?.close());

const get = (url: string) => harness!.app.inject({ method: 'GET', url });

describe('cache-aside', () => {
  it('misses, reads the read model and fills the cache with version = revision; then hits', async () => {
    harness = await startReadApi({ queries: [fixtureQueryRoutes] });
    await harness.seed(COUNTERS, [counterDoc('c-1', { revision: 4, total: 40 })]);

    expect((await get('/counters/c-1')).json()).toMatchObject({ total: 40 });
    expect(harness.calls).toEqual(['cache.get counter:c-1', 'counters.findOne', 'cache.set counter:c-1']);
    await vi.waitFor(() => expect(harness!.readApi.stats().cacheFills).toBe(1));
    // The filled entry holds version 4: an older version may not replace it, a newer one may.
    expect(await harness.cache.set(counterCacheKey('c-1'), '{}', { version: 3, ttlSeconds: 60 })).toBe(false);

    harness.calls.length = 0;
    expect((await get('/counters/c-1')).json()).toMatchObject({ total: 40, revision: 4 });
    expect(harness.calls).toEqual(['cache.get counter:c-1']);
    expect(harness.readApi.stats()).toMatchObject({ cacheHits: 1, cacheMisses: 1, cacheErrors: 0 });
  });

  it('serves what the projector put in the cache, whatever the read model says', async () => {
    harness = await startReadApi({ queries: [fixtureQueryRoutes] });
    await harness.seed(COUNTERS, [counterDoc('c-2', { revision: 1, total: 10 })]);
    const newer = counterDoc('c-2', { revision: 2, total: 20 });
    await harness.cache.set(counterCacheKey('c-2'), JSON.stringify(newer), { version: 2, ttlSeconds: 60 });
    const body = (await get('/counters/c-2')).json();
    expect(body).toMatchObject({ revision: 2, total: 20 });
    expect(body).not.toHaveProperty('_id');
    expect(harness.calls).not.toContain('counters.findOne');
  });

  it.each([
    ['not JSON', 'nope{'],
    ['the wrong shape', JSON.stringify({ counterId: 'c-3', total: 'lots' })],
  ])('treats a cache entry that is %s as a miss', async (_name, entry) => {
    harness = await startReadApi({ queries: [fixtureQueryRoutes] });
    await harness.seed(COUNTERS, [counterDoc('c-3', { revision: 5, total: 50 })]);
    await harness.cache.set(counterCacheKey('c-3'), entry, { version: 1, ttlSeconds: 60 });
    const response = await get('/counters/c-3');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ total: 50 });
    expect(harness.readApi.stats()).toMatchObject({ cacheInvalid: 1, cacheHits: 0 });
  });
});

describe('a cache that does not answer', () => {
  it('is a miss after the cache timeout, call by call, while calls that answer go through', async () => {
    const inner = createLruCache();
    let hang = true;
    // A cache whose reads of one key never settle while `hang` holds, the rest answering at once.
    const stuck: Cache = {
      ...inner,
      get: (key) => (hang && key === counterCacheKey('slow') ? new Promise<never>(() => {}) : inner.get(key)),
    };
    harness = await startReadApi({ queries: [fixtureQueryRoutes], cache: stuck });
    await harness.seed(COUNTERS, [counterDoc('slow', { total: 1 }), counterDoc('fast', { total: 2 })]);
    await get('/counters/fast');
    await vi.waitFor(() => expect(harness!.readApi.stats().cacheFills).toBe(1));

    const started = performance.now();
    const [slow1, fast, slow2] = await Promise.all([
      get('/counters/slow'),
      get('/counters/fast'),
      get('/counters/slow'),
    ]);
    const waited = performance.now() - started;
    expect([slow1, fast, slow2].map((response) => response.json().total)).toEqual([1, 2, 1]);
    // The harness's READ_CACHE_TIMEOUT_MS is 500: both stuck reads waited for it, and not much longer.
    expect(waited).toBeGreaterThanOrEqual(450);
    expect(waited).toBeLessThan(5_000);
    expect(harness.readApi.stats()).toMatchObject({ cacheErrors: 2, cacheHits: 1 });

    // The stuck reads filled the cache from the read model; once it answers, both are hits.
    hang = false;
    expect((await get('/counters/slow')).json().total).toBe(1);
    expect((await get('/counters/fast')).json().total).toBe(2);
    expect(harness.readApi.stats().cacheHits).toBe(3);
  });
});

const redis = redisServerAvailable();
if (!redis)
  console.warn(
    'skipped: read API over a real Redis — redis-server not on PATH (apt-get install redis-server)',
  );

describe.skipIf(!redis)('cache-aside over a real Redis', () => {
  let server: RedisServer | undefined;
  afterEach(async () => {
    await server?.stop();
  });

  it('keeps answering from the read model while Redis is stopped, and uses it again once it is back', async () => {
    server = await startRedisServer();
    const cache = createRedisCache(server.url, { keyPrefix: `read-api:${randomUUID()}:` });
    harness = await startReadApi({ queries: [fixtureQueryRoutes], cache });
    await harness.seed(COUNTERS, [counterDoc('r-1', { revision: 2, total: 70 })]);
    const read = async () => {
      const response = await get('/counters/r-1');
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ counterId: 'r-1', total: 70, revision: 2 });
    };

    await read(); // miss, then filled in Redis
    await vi.waitFor(() => expect(harness!.readApi.stats().cacheFills).toBe(1));
    await read(); // hit
    expect(harness.readApi.stats()).toMatchObject({ cacheHits: 1, cacheMisses: 1, cacheErrors: 0 });

    const { port } = server;
    await server.stop();
    harness.calls.length = 0;
    for (let i = 0; i < 5; i++) await read();
    expect(harness.calls.filter((call) => call === 'counters.findOne')).toHaveLength(5);
    expect(harness.readApi.stats().cacheErrors).toBeGreaterThanOrEqual(5);
    expect(harness.readApi.stats().cacheHits).toBe(1);

    // A new, empty server on the same port: the client reconnects by itself and the cache fills again.
    server = await startRedisServer({ port });
    await vi.waitFor(
      async () => {
        await read();
        expect(harness!.readApi.stats().cacheHits).toBeGreaterThan(1);
      },
      { timeout: 10_000, interval: 100 },
    );
  });
});
