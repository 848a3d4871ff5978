import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cacheContract } from './cache.contract.js';
import { createRedisCache } from './redis-cache.js';
import { type RedisServer, redisServerAvailable, startRedisServer } from './testing/redis-server.js';

const available = redisServerAvailable();
if (!available)
  console.warn('skipped: Redis contract — redis-server not on PATH (apt-get install redis-server)');

describe.skipIf(!available)('Redis cache', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await startRedisServer();
  });

  afterAll(async () => {
    await server?.stop();
  });

  cacheContract('Redis', () => createRedisCache(server.url, { keyPrefix: `test:${randomUUID()}:` }));

  it('keeps entries of different key prefixes apart', async () => {
    const one = createRedisCache(server.url, { keyPrefix: 'one:' });
    const two = createRedisCache(server.url, { keyPrefix: 'two:' });
    try {
      await one.set('k', 'from one', { version: 1, ttlSeconds: 60 });
      expect(await two.get('k')).toBeUndefined();
      expect(await one.get('k')).toBe('from one');
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('throws from ping when no server is listening', async () => {
    const stopped = await startRedisServer();
    await stopped.stop();
    const cache = createRedisCache(stopped.url);
    try {
      await expect(cache.ping()).rejects.toThrow();
    } finally {
      await cache.close();
    }
  });

  it('throws while its server is down, so callers can fall back, and recovers when it is back', async () => {
    const own = await startRedisServer();
    const cache = createRedisCache(own.url);
    const options = { version: 1, ttlSeconds: 60 };
    let restarted: RedisServer | undefined;
    try {
      await cache.set('k', 'before', options);
      expect(await cache.get('k')).toBe('before');

      await own.stop();

      await expect(cache.get('k')).rejects.toThrow();
      await expect(cache.set('k', 'during', options)).rejects.toThrow();
      await expect(cache.delete('k')).rejects.toThrow();

      restarted = await startRedisServer({ port: own.port });
      // The new server is empty; the client reconnects on its own within its retry delay.
      await vi.waitFor(() => cache.set('k', 'after', options), { timeout: 10_000, interval: 100 });
      expect(await cache.get('k')).toBe('after');
    } finally {
      await cache.close();
      await restarted?.stop();
    }
  });
});
