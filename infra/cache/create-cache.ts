import type { Config } from '../config.js';
import type { Cache } from './cache.js';
import { createLruCache } from './lru-cache.js';
import type { RedisCacheOptions } from './redis-cache.js';

/**
 * Redis when REDIS_URL is set; otherwise an in-process LRU. Entry TTLs come from CACHE_TTL_SECONDS
 * at each set. The Redis client is imported only when it is used.
 */
export const createCache = async (
  config: Pick<Config, 'REDIS_URL' | 'REDIS_KEY_PREFIX' | 'CACHE_LRU_MAX_ENTRIES'>,
  { onConnectionError }: Pick<RedisCacheOptions, 'onConnectionError'> = {},
): Promise<Cache> => {
  if (!config.REDIS_URL) return createLruCache({ maxEntries: config.CACHE_LRU_MAX_ENTRIES });
  const { createRedisCache } = await import('./redis-cache.js');
  return createRedisCache(config.REDIS_URL, { keyPrefix: config.REDIS_KEY_PREFIX, onConnectionError });
};
