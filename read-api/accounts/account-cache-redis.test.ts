import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRedisCache } from '../../infra/cache/redis-cache.js';
import {
  type RedisServer,
  redisServerAvailable,
  startRedisServer,
} from '../../infra/cache/testing/redis-server.js';
import { accountDoc, type Harness, startReadApi } from '../testing/read-api-harness.js';
import { accountQueries } from './index.js';

const available = redisServerAvailable();
if (!available)
  console.warn(
    'skipped: read API over a real Redis — redis-server not on PATH (apt-get install redis-server)',
  );

describe.skipIf(!available)('GET /accounts/:id over a real Redis', () => {
  let server: RedisServer | undefined;
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    await server?.stop();
  });

  it('keeps answering from the read model while Redis is stopped, and uses it again once it is back', async () => {
    server = await startRedisServer();
    const cache = createRedisCache(server.url, { keyPrefix: `read-api:${randomUUID()}:` });
    harness = await startReadApi({ queries: [accountQueries], cache });
    await harness.seedAccounts([accountDoc('r-1', { revision: 2, balance: 70 })]);
    const read = async () => {
      const response = await harness!.app.inject({ url: '/accounts/r-1' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ accountId: 'r-1', balance: 70, revision: 2 });
    };

    await read(); // miss, then filled in Redis
    await vi.waitFor(() => expect(harness!.readApi.stats().cacheFills).toBe(1));
    await read(); // hit
    expect(harness.readApi.stats()).toMatchObject({ cacheHits: 1, cacheMisses: 1, cacheErrors: 0 });

    const { port } = server;
    await server.stop();
    harness.calls.length = 0;
    for (let i = 0; i < 5; i++) await read();
    expect(harness.calls.filter((call) => call === 'accounts.findOne')).toHaveLength(5);
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
