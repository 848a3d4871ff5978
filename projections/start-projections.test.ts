import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Cache } from '../infra/cache/cache.js';
import { createLruCache } from '../infra/cache/lru-cache.js';
import { createRedisCache } from '../infra/cache/redis-cache.js';
import {
  type RedisServer,
  redisServerAvailable,
  startRedisServer,
} from '../infra/cache/testing/redis-server.js';
import { loadConfig } from '../infra/config.js';
import type { EventStore } from '../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../infra/event-store/memory-event-store.js';
import { createEmbeddedReadStore } from '../infra/read-store/embedded-read-store.js';
import type { ReadStore } from '../infra/read-store/read-store.js';
import { counterCacheKey, fixtureProjections } from './engine/testing/fixture-projection.js';
import { counterCommands, silentLogger } from './engine/testing/harness.js';
import { type Projections, startProjections } from './start-projections.js';

const config = loadConfig({
  PROJECTION_FLUSH_INTERVAL_MS: '5',
  PROJECTION_LEASE_TTL_MS: '300',
  PROJECTION_RETRY_BACKOFF_MS: '1',
  PROJECTION_CACHE_TIMEOUT_MS: '500',
  CACHE_TTL_SECONDS: '60',
});

const running: Projections[] = [];
/** The fixture read models, keeping the cached counter summary fresh. */
const start = ({ cache, ...deps }: { eventStore: EventStore; readStore: ReadStore; cache: Cache }) => {
  const projections = startProjections({
    ...deps,
    logger: silentLogger,
    config,
    projections: fixtureProjections({ cache: { cache, ttlSeconds: config.CACHE_TTL_SECONDS } }),
  });
  running.push(projections);
  return projections;
};
afterEach(async () => {
  await Promise.all(running.splice(0).map((projections) => projections.stop()));
});

const caughtUp = async (projections: Projections, position: bigint) => {
  for (const name of ['counters', 'counter-changes'])
    expect(await projections.waitForCheckpoint(name, position, { timeoutMs: 10_000 }), name).toBe(true);
};

const cachedSummary = async (cache: Cache, counterId: string) => {
  const text = await cache.get(counterCacheKey(counterId));
  return text === undefined ? undefined : JSON.parse(text);
};

/**
 * The cached summary of `counterId` once it reflects `revision`. The cache is refreshed by an
 * after-flush hook, which runs after the checkpoint is committed: a wait for the checkpoint does not
 * cover it, so a test that reads the cache waits for the entry it reads.
 */
const cachedSummaryAt = async (cache: Cache, counterId: string, revision: number, timeoutMs = 10_000) => {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const summary = await cachedSummary(cache, counterId);
    if (summary?.revision === revision) return summary;
    if (performance.now() > deadline)
      throw new Error(
        `${counterCacheKey(counterId)} not cached at revision ${revision} (it is at ${summary?.revision})`,
      );
    await sleep(5);
  }
};

/** A cache whose writes land `ms` late, as they may with Redis: the refresh trails the checkpoint. */
const slowWrites = (cache: Cache, ms: number): Cache => ({
  get: (key) => cache.get(key),
  set: async (key, value, options) => {
    await sleep(ms);
    return cache.set(key, value, options);
  },
  delete: (key) => cache.delete(key),
  ping: () => cache.ping(),
  close: () => cache.close(),
});

describe('startProjections', () => {
  it('runs the read models and keeps the cached summary in step with them', async () => {
    const eventStore = createMemoryEventStore();
    const readStore = createEmbeddedReadStore();
    const cache = slowWrites(createLruCache(), 20);
    const commands = counterCommands(eventStore);
    const projections = start({ eventStore, readStore, cache });

    await commands.open('a', 'Ada');
    const increment = await commands.increment('a', 700, 'salary');
    await caughtUp(projections, increment.position);
    const { _id, ...summary } = (await readStore.collection('counters').findOne({ _id: 'a' }))!;
    expect(summary).toMatchObject({ total: 700, revision: 1 });
    expect(await cachedSummaryAt(cache, 'a', increment.revision)).toEqual(summary);

    const decrement = await commands.decrement('a', 200);
    await caughtUp(projections, decrement.position);
    expect(await cachedSummaryAt(cache, 'a', decrement.revision)).toMatchObject({
      total: 500,
      revision: 2,
    });
    // The entry carries the revision as its version: an older view can no longer replace it.
    expect(await cache.set(counterCacheKey('a'), '{"stale":true}', { version: 1, ttlSeconds: 60 })).toBe(
      false,
    );

    const stats = await projections.stats();
    expect(stats.map((s) => s.projection)).toEqual(expect.arrayContaining(['counters', 'counter-changes']));
    expect(stats.every((s) => s.leading && s.afterFlushFailures === 0)).toBe(true);
  });

  it('tells of every checkpoint advance in this process', async () => {
    const eventStore = createMemoryEventStore();
    const projections = start({ eventStore, readStore: createEmbeddedReadStore(), cache: createLruCache() });
    const advances: string[] = [];
    const unsubscribe = projections.onCheckpoint((name, position) => advances.push(`${name}@${position}`));
    const { position } = await counterCommands(eventStore).open('a');
    await caughtUp(projections, position);
    unsubscribe();
    expect(advances).toContain(`counters@${position}`);
    expect(advances).toContain(`counter-changes@${position}`);
  });

  it('waits for checkpoints that another instance commits (a standby polls them)', async () => {
    const eventStore = createMemoryEventStore();
    const readStore = createEmbeddedReadStore();
    const cache = createLruCache();
    const one = start({ eventStore, readStore, cache });
    const two = start({ eventStore, readStore, cache });
    const commands = counterCommands(eventStore);
    await commands.open('a');
    const { position } = await commands.increment('a', 5);
    // Each projection is led by exactly one of the two; both instances must see both checkpoints arrive.
    await caughtUp(one, position);
    await caughtUp(two, position);
    const all = [...(await one.stats()), ...(await two.stats())];
    const leaders = all.filter((s) => s.leading).map((s) => s.projection);
    expect(leaders.sort()).toEqual([...new Set(all.map((s) => s.projection))].sort());
  });

  it('refuses two projections with one name', () => {
    const eventStore = createMemoryEventStore();
    expect(() =>
      startProjections({
        eventStore,
        readStore: createEmbeddedReadStore(),
        logger: silentLogger,
        config,
        projections: [
          { name: 'p', eventTypes: [], collections: [], handle: () => ({}) },
          { name: 'p', eventTypes: [], collections: [], handle: () => ({}) },
        ],
      }),
    ).toThrow(/two projections are named p/);
  });
});

const redis = redisServerAvailable();
if (!redis) console.warn('skipped: projection with a failing Redis cache — redis-server not on PATH');

describe.skipIf(!redis)('startProjections with Redis', () => {
  let server: RedisServer | undefined;
  afterEach(async () => {
    await server?.stop();
  });

  it('goes on projecting while Redis is down, and refreshes the cache once it is back', async () => {
    server = await startRedisServer();
    const cache = createRedisCache(server.url, { keyPrefix: 'projections-test:' });
    const eventStore = createMemoryEventStore();
    const readStore = createEmbeddedReadStore();
    const commands = counterCommands(eventStore);
    const projections = start({ eventStore, readStore, cache });
    try {
      const opened = await commands.open('a');
      await caughtUp(projections, opened.position);
      expect(await cachedSummaryAt(cache, 'a', opened.revision)).toMatchObject({ total: 0, revision: 0 });

      await server.stop();
      await caughtUp(projections, (await commands.increment('a', 10)).position);
      expect(await readStore.collection('counters').findOne({ _id: 'a' })).toMatchObject({ total: 10 });
      // The cache refresh runs after the checkpoint is committed, so its failure shows a moment later.
      await vi.waitFor(async () =>
        expect((await projections.stats())[0]?.afterFlushFailures).toBeGreaterThan(0),
      );

      server = await startRedisServer({ port: server.port });
      // The client reconnects by itself; each increment's batch tries the cache again, and a try that
      // found Redis still away leaves no entry at the increment's revision.
      await vi.waitFor(
        async () => {
          const { position, revision } = await commands.increment('a', 1);
          await caughtUp(projections, position);
          const total = (await readStore.collection('counters').findOne({ _id: 'a' }))?.total;
          expect(await cachedSummaryAt(cache, 'a', revision, 1_000)).toMatchObject({ total });
        },
        { timeout: 15_000, interval: 200 },
      );
    } finally {
      await projections.stop();
      await cache.close();
    }
  });
});
