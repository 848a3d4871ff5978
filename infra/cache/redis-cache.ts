import { Redis, type RedisOptions } from 'ioredis';
import { backoffDelayMs } from '../retry/backoff.js';
import type { Cache } from './cache.js';
import { ttlMilliseconds } from './set-options.js';

/**
 * Stores version and value in one hash, unless the hash holds a higher version, and sets the TTL:
 * one script, so no other writer can come between the comparison and the write.
 */
const SET_UNLESS_NEWER = `
local current = redis.call('HGET', KEYS[1], 'version')
if current and tonumber(current) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'value', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

type WithSetUnlessNewer = Redis & {
  setUnlessNewer(key: string, version: number, value: string, ttlMs: number): Promise<0 | 1>;
};

/**
 * A cache is an optimisation: when Redis is down, a caller should hear so at once and read the
 * read model instead, not wait. So commands are not queued while disconnected, a dropped
 * connection is retried once, and connecting and commands time out in a second. Each of these can
 * be overridden through the ioredis options.
 */
const FAIL_FAST: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 1_000,
  commandTimeout: 1_000,
  // Reconnects go on in the background, so the cache comes back by itself with the server: 100 ms
  // after a drop, doubling up to one a second.
  retryStrategy: (attempt) => backoffDelayMs(attempt, { baseMs: 100, maxMs: 1_000, jitter: 'none' }),
};

export type RedisCacheOptions = {
  /** Prepended to every key, so several apps or environments can share one Redis. */
  keyPrefix?: string;
  /**
   * Hears connection errors as they happen (to log them, say). Commands fail on their own, with
   * their own error, whether or not this is set.
   */
  onConnectionError?: (error: Error) => void;
};

/** The cache on Redis; `connection` is a redis:// URL or ioredis options. Errors are thrown to the caller. */
export const createRedisCache = (
  connection: string | RedisOptions,
  { keyPrefix, onConnectionError = () => {} }: RedisCacheOptions = {},
): Cache => {
  const options: RedisOptions = {
    ...FAIL_FAST,
    ...(typeof connection === 'string' ? {} : connection),
    ...(keyPrefix === undefined ? {} : { keyPrefix }),
    lazyConnect: true,
  };
  const redis = (
    typeof connection === 'string' ? new Redis(connection, options) : new Redis(options)
  ) as WithSetUnlessNewer;
  redis.on('error', onConnectionError);
  redis.defineCommand('setUnlessNewer', { numberOfKeys: 1, lua: SET_UNLESS_NEWER });

  // Without an offline queue a command sent before the first connection is up would fail, so
  // commands wait for that first attempt. After it, up or down, they go straight through.
  const firstConnection = redis.connect().catch(() => {});

  return {
    async get(key) {
      await firstConnection;
      return (await redis.hget(key, 'value')) ?? undefined;
    },

    async set(key, value, options) {
      const ttlMs = ttlMilliseconds(options);
      await firstConnection;
      return (await redis.setUnlessNewer(key, options.version, value, ttlMs)) === 1;
    },

    async delete(key) {
      await firstConnection;
      await redis.del(key);
    },

    async ping() {
      await firstConnection;
      await redis.ping();
    },

    async close() {
      await firstConnection;
      if (redis.status !== 'ready') {
        redis.disconnect();
        return;
      }
      await redis.quit().catch(() => redis.disconnect());
    },
  };
};
