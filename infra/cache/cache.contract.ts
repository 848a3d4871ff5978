import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Cache } from './cache.js';

const LONG = { ttlSeconds: 60 };

/**
 * What every cache adapter must do. Keys are unique to each run, so the suite can share a real
 * server with other runs.
 */
export const cacheContract = (name: string, create: () => Cache | Promise<Cache>) => {
  describe(`cache contract: ${name}`, () => {
    let cache: Cache;
    const run = randomUUID().slice(0, 8);
    let keys = 0;
    const fresh = (label: string) => `contract:${run}:${keys++}:${label}`;

    beforeAll(async () => {
      cache = await create();
    });

    afterAll(async () => {
      await cache?.close();
    });

    it('answers ping', async () => {
      await expect(cache.ping()).resolves.toBeUndefined();
    });

    it('misses a key never set', async () => {
      expect(await cache.get(fresh('missing'))).toBeUndefined();
    });

    it('returns what was set, exactly', async () => {
      const key = fresh('roundtrip');
      const value = JSON.stringify({ owner: 'Zoë', note: 'line one\nline two', amount: 12.5 });

      expect(await cache.set(key, value, { version: 1, ...LONG })).toBe(true);

      expect(await cache.get(key)).toBe(value);
    });

    it('keeps keys apart', async () => {
      const a = fresh('a');
      const b = fresh('b');
      await cache.set(a, 'A', { version: 1, ...LONG });
      await cache.set(b, 'B', { version: 1, ...LONG });

      expect([await cache.get(a), await cache.get(b)]).toEqual(['A', 'B']);
    });

    it('deletes, and deleting a missing key is fine', async () => {
      const key = fresh('delete');
      await cache.set(key, 'v', { version: 1, ...LONG });

      await cache.delete(key);
      await cache.delete(key);

      expect(await cache.get(key)).toBeUndefined();
    });

    describe('versions', () => {
      it('never lets a lower version replace a higher one', async () => {
        const key = fresh('lower');
        await cache.set(key, 'v5', { version: 5, ...LONG });

        expect(await cache.set(key, 'v4', { version: 4, ...LONG })).toBe(false);

        expect(await cache.get(key)).toBe('v5');
      });

      it('lets an equal version replace the entry: a repeated set is harmless', async () => {
        const key = fresh('equal');
        await cache.set(key, 'first', { version: 5, ...LONG });

        expect(await cache.set(key, 'again', { version: 5, ...LONG })).toBe(true);

        expect(await cache.get(key)).toBe('again');
      });

      it('lets a higher version replace the entry', async () => {
        const key = fresh('higher');
        await cache.set(key, 'v5', { version: 5, ...LONG });

        expect(await cache.set(key, 'v6', { version: 6, ...LONG })).toBe(true);

        expect(await cache.get(key)).toBe('v6');
      });

      it('forgets the version with the entry: after a delete any version may set', async () => {
        const key = fresh('after-delete');
        await cache.set(key, 'v5', { version: 5, ...LONG });
        await cache.delete(key);

        expect(await cache.set(key, 'v1', { version: 1, ...LONG })).toBe(true);

        expect(await cache.get(key)).toBe('v1');
      });
    });

    describe('expiry', () => {
      it('drops an entry when its TTL runs out, and its version with it', async () => {
        const long = fresh('long');
        const unread = fresh('unread'); // expires unread, so no read can have cleared it
        const short = fresh('short');
        await cache.set(long, 'stays', { version: 1, ...LONG });
        await cache.set(unread, 'goes', { version: 9, ttlSeconds: 0.2 });
        await cache.set(short, 'goes', { version: 9, ttlSeconds: 0.2 });

        await vi.waitFor(async () => expect(await cache.get(short)).toBeUndefined(), {
          timeout: 5_000,
          interval: 50,
        });

        expect(await cache.get(long)).toBe('stays');
        expect(await cache.set(unread, 'back', { version: 1, ...LONG })).toBe(true);
        expect(await cache.get(unread)).toBe('back');
      });

      it('refuses a TTL that is not a positive number, storing nothing', async () => {
        const key = fresh('bad-ttl');
        for (const ttlSeconds of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
          await expect(cache.set(key, 'v', { version: 1, ttlSeconds })).rejects.toThrow(RangeError);
        }
        expect(await cache.get(key)).toBeUndefined();
      });
    });
  });
};
