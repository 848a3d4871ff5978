/**
 * The cache port: hot reads as JSON strings with a TTL. Adapters: Redis (ioredis) and an
 * in-process LRU (lru-cache). Both pass cache.contract.ts.
 *
 * Every entry carries a version (for a read model document: the stream revision it reflects), and
 * `set` never replaces an entry with an older version. So a reader that filled the cache from a
 * read it made before the projector wrote cannot overwrite what the projector wrote after it.
 */
export interface Cache {
  get(key: string): Promise<string | undefined>;
  /**
   * Stores `value` unless the entry present has a higher version. Returns whether it stored.
   * `ttlSeconds` must be positive and may be fractional (millisecond precision).
   */
  set(key: string, value: string, options: { version: number; ttlSeconds: number }): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Throws when the cache cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
