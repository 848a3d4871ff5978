import type { z } from 'zod';
import type { Cache } from '../../infra/cache/cache.js';
import type { Logger } from '../../infra/logger.js';
import type { ReadStats } from '../read-stats.js';

export type CacheAsideOptions = {
  cache: Cache;
  logger: Logger;
  stats: ReadStats;
  ttlSeconds: number;
  /** A cache slower than this counts as down for that call: the read goes to the read model. */
  timeoutMs: number;
};

class CacheTimeoutError extends Error {
  override readonly name = 'CacheTimeoutError';
}

const within = <T>(operation: Promise<T>, timeoutMs: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CacheTimeoutError(`cache did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([operation, timeout]).finally(() => clearTimeout(timer));
};

/**
 * Cache-aside reads over the cache port. The cache is an accelerator, never a dependency: any
 * failure (Redis stopped, slow, or holding something unreadable) turns into a miss, is counted,
 * and is logged once when the cache goes bad and once when it comes back, not on every request.
 */
export const createCacheAside = ({ cache, logger, stats, ttlSeconds, timeoutMs }: CacheAsideOptions) => {
  let failing = false;

  const succeeded = () => {
    if (!failing) return;
    failing = false;
    logger.info('cache reachable again');
  };
  const failed = (error: unknown, key: string) => {
    stats.cacheErrors++;
    if (failing) return;
    failing = true;
    logger.warn({ err: error, key }, 'cache unavailable: reading from the read model');
  };

  return {
    /** The cached view, or undefined on a miss, a failure or an entry that does not parse. */
    async get<View>(key: string, schema: z.ZodType<View>): Promise<View | undefined> {
      let text: string | undefined;
      try {
        text = await within(cache.get(key), timeoutMs);
        succeeded();
      } catch (error) {
        failed(error, key);
        return undefined;
      }
      if (text === undefined) {
        stats.cacheMisses++;
        return undefined;
      }
      const parsed = parseJson(text, schema);
      if (parsed === undefined) {
        stats.cacheInvalid++;
        logger.warn({ key }, 'cache entry does not match its view: ignored');
        return undefined;
      }
      stats.cacheHits++;
      return parsed;
    },

    /**
     * Writes a view read from the read model back to the cache, without making the caller wait.
     * The port keeps a newer version, so this never hides what the projector wrote meanwhile.
     */
    fill(key: string, view: unknown, version: number): void {
      within(cache.set(key, JSON.stringify(view), { version, ttlSeconds }), timeoutMs).then(
        (stored) => {
          succeeded();
          if (stored) stats.cacheFills++;
        },
        (error: unknown) => failed(error, key),
      );
    },
  };
};

export type CacheAside = ReturnType<typeof createCacheAside>;

const parseJson = <View>(text: string, schema: z.ZodType<View>): View | undefined => {
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
};
