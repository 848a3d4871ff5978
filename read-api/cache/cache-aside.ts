import type { z } from 'zod';
import type { Cache } from '../../infra/cache/cache.js';
import type { Logger } from '../../infra/logger.js';
import type { ReadStats } from '../read-stats.js';
import type { ReadyResponse, ReadyView } from './ready-response.js';

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

const FAILED = Symbol('cache failed');

type Pending = { deadline: number; reject: (error: Error) => void };

/**
 * Bounds cache calls by `timeoutMs` with one timer for all of them, not a timer (and a race) per
 * call. A call is in `pending` only until it settles, so nothing outlives it; with one bound, the
 * order calls started in (a Set's order) is the order of their deadlines, and the timer is armed
 * for the oldest one still pending.
 */
const createDeadlines = (timeoutMs: number) => {
  const pending = new Set<Pending>();
  let timer: NodeJS.Timeout | undefined;

  const expire = () => {
    timer = undefined;
    const now = performance.now();
    for (const call of pending) {
      if (call.deadline > now) {
        arm(call.deadline - now);
        return;
      }
      pending.delete(call);
      call.reject(new CacheTimeoutError(`cache did not answer within ${timeoutMs} ms`));
    }
  };
  const arm = (delayMs: number) => {
    timer = setTimeout(expire, Math.max(0, delayMs));
    timer.unref();
  };

  return <T>(operation: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const call: Pending = { deadline: performance.now() + timeoutMs, reject };
      pending.add(call);
      if (timer === undefined) arm(timeoutMs);
      operation.then(
        (value) => {
          if (pending.delete(call)) resolve(value);
        },
        (error: unknown) => {
          if (pending.delete(call)) reject(error);
        },
      );
    });
};

/**
 * Cache-aside reads over the cache port. The cache is an accelerator, never a dependency: any
 * failure (Redis stopped, slow, or holding something unreadable) turns into a miss, is counted,
 * and is logged once when the cache goes bad and once when it comes back, not on every request.
 */
export const createCacheAside = ({ cache, logger, stats, ttlSeconds, timeoutMs }: CacheAsideOptions) => {
  let failing = false;
  const within = createDeadlines(timeoutMs);

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

  /** The entry's text, undefined when absent, FAILED when the cache failed (counted and logged). */
  const read = async (key: string): Promise<string | undefined | typeof FAILED> => {
    try {
      const text = await within(cache.get(key));
      succeeded();
      return text;
    } catch (error) {
      failed(error, key);
      return FAILED;
    }
  };

  return {
    /**
     * The ready response cached under `key`: sent as it is, neither parsed nor serialized again.
     * Undefined on a miss, a failure, or an entry that is not a ready response of `view` (another
     * format, another shape of the view, garbage): such an entry is counted, logged and read around.
     */
    async ready(key: string, view: ReadyView<unknown>): Promise<ReadyResponse | undefined> {
      const entry = await read(key);
      if (entry === FAILED) return undefined;
      if (entry === undefined) {
        stats.cacheMisses++;
        return undefined;
      }
      const response = view.decode(entry);
      if (response === undefined) {
        stats.cacheInvalid++;
        logger.warn({ key }, 'cache entry is not a ready response of its view: ignored');
        return undefined;
      }
      stats.cacheHits++;
      return response;
    },

    /**
     * Writes a ready response made from the read model back to the cache, without making the
     * caller wait. The port keeps a newer version, so this never hides what the projector wrote.
     */
    fillReady(key: string, view: ReadyView<unknown>, response: ReadyResponse, version: number): void {
      within(cache.set(key, view.encode(response), { version, ttlSeconds })).then(
        (stored) => {
          succeeded();
          if (stored) stats.cacheFills++;
        },
        (error: unknown) => failed(error, key),
      );
    },

    /** The cached view, or undefined on a miss, a failure or an entry that does not parse. */
    async get<View>(key: string, schema: z.ZodType<View>): Promise<View | undefined> {
      const text = await read(key);
      if (text === FAILED) return undefined;
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
      within(cache.set(key, JSON.stringify(view), { version, ttlSeconds })).then(
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
