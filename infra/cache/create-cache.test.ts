import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { createCache } from './create-cache.js';
import { redisServerAvailable, startRedisServer } from './testing/redis-server.js';

const options = { version: 1, ttlSeconds: 60 };
const redisAvailable = redisServerAvailable();
if (!redisAvailable) {
  console.warn(
    'skipped: createCache with REDIS_URL — redis-server not on PATH (apt-get install redis-server)',
  );
}

describe('createCache', () => {
  it('uses an in-process LRU of CACHE_LRU_MAX_ENTRIES when REDIS_URL is unset', async () => {
    const cache = await createCache(loadConfig({ REDIS_URL: '', CACHE_LRU_MAX_ENTRIES: '1' }));
    await cache.set('a', 'A', options);
    await cache.set('b', 'B', options);

    expect([await cache.get('a'), await cache.get('b')]).toEqual([undefined, 'B']);
    await cache.close();
  });

  it.skipIf(!redisAvailable)('uses Redis at REDIS_URL, under REDIS_KEY_PREFIX', async () => {
    const server = await startRedisServer();
    const cache = await createCache(loadConfig({ REDIS_URL: server.url, REDIS_KEY_PREFIX: 'app:' }));
    const raw = new Redis(server.url);
    try {
      await cache.set('account:1', '{"balance":5}', options);
      expect(await raw.hget('app:account:1', 'value')).toBe('{"balance":5}');
    } finally {
      raw.disconnect();
      await cache.close();
      await server.stop();
    }
  });

  it('names the variable when a cache setting is wrong', () => {
    expect(() => loadConfig({ REDIS_URL: 'not a url' })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ CACHE_LRU_MAX_ENTRIES: '0' })).toThrow(/CACHE_LRU_MAX_ENTRIES/);
  });
});
