import type { Config } from '../config.js';
import type { Cache } from './cache.js';
import { createLruCache } from './lru-cache.js';
import { createRedisCache, type RedisCacheOptions } from './redis-cache.js';

/** Redis when REDIS_URL is set; otherwise an in-process LRU. Entry TTLs come from CACHE_TTL_SECONDS at each set. */
export const createCache = (
  config: Pick<Config, 'REDIS_URL' | 'REDIS_KEY_PREFIX' | 'CACHE_LRU_MAX_ENTRIES'>,
  { onConnectionError }: Pick<RedisCacheOptions, 'onConnectionError'> = {},
): Cache =>
  config.REDIS_URL
    ? createRedisCache(config.REDIS_URL, { keyPrefix: config.REDIS_KEY_PREFIX, onConnectionError })
    : createLruCache({ maxEntries: config.CACHE_LRU_MAX_ENTRIES });
