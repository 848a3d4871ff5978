import { LRUCache } from 'lru-cache';
import type { Cache } from './cache.js';
import { ttlMilliseconds } from './set-options.js';

type Entry = { version: number; value: string };

/**
 * The cache in process memory: for tests and single-node deployments. Bounded by entry count;
 * the least recently used entry makes room. An expired entry reads as absent, so it no longer
 * holds back a lower version.
 */
export const createLruCache = ({ maxEntries = 10_000 }: { maxEntries?: number } = {}): Cache => {
  const entries = new LRUCache<string, Entry>({ max: maxEntries });

  return {
    async get(key) {
      return entries.get(key)?.value;
    },

    async set(key, value, options) {
      const ttl = ttlMilliseconds(options);
      const current = entries.peek(key);
      if (current && current.version > options.version) return false;
      entries.set(key, { version: options.version, value }, { ttl });
      return true;
    },

    async delete(key) {
      entries.delete(key);
    },

    async ping() {},

    async close() {
      entries.clear();
    },
  };
};
