import { describe, expect, it } from 'vitest';
import { cacheContract } from './cache.contract.js';
import { createLruCache } from './lru-cache.js';

cacheContract('in-process LRU', () => createLruCache());

describe('in-process LRU cache', () => {
  it('holds at most maxEntries, dropping the least recently used', async () => {
    const cache = createLruCache({ maxEntries: 2 });
    const options = { version: 1, ttlSeconds: 60 };
    await cache.set('a', 'A', options);
    await cache.set('b', 'B', options);
    await cache.get('a');

    await cache.set('c', 'C', options);

    expect([await cache.get('a'), await cache.get('b'), await cache.get('c')]).toEqual(['A', undefined, 'C']);
  });
});
