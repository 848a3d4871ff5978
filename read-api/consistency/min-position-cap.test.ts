import { afterEach, describe, expect, it } from 'vitest';
import { createLruCache } from '../../infra/cache/lru-cache.js';
import { createHttpApp, type HttpApp } from '../../infra/http/create-http-app.js';
import { createLogger } from '../../infra/logger.js';
import { createEmbeddedReadStore } from '../../infra/read-store/embedded-read-store.js';
import type { WaitForCheckpoint } from '../../projections/engine/checkpoint-watch.js';
import { COUNTERS } from '../../projections/engine/testing/fixture-projection.js';
import { type ReadApi, registerReadApi } from '../read-api.js';
import { counterDoc, fixtureQueryRoutes } from '../testing/fixture-query-routes.js';

/**
 * READ_CONSISTENCY_MAX_WAITERS: reads waiting for x-min-position at once are bounded; one more is
 * answered 503 with Retry-After at once, while those already waiting are served as before.
 */
const MAX_WAITERS = 2;

let app: HttpApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** The projections reach a position when the test says so: `reach()` lets every wait so far through. */
const controlledCheckpoints = () => {
  const pending: (() => void)[] = [];
  const wait: WaitForCheckpoint = (_projection, _position, { signal }) =>
    new Promise<boolean>((resolve) => {
      pending.push(() => resolve(true));
      signal?.addEventListener('abort', () => resolve(false), { once: true });
    });
  return {
    wait,
    get waiting() {
      return pending.length;
    },
    reach: () => {
      for (const resolve of pending.splice(0)) resolve();
    },
  };
};

const start = async (
  wait: WaitForCheckpoint,
  { maxWaiters }: { maxWaiters?: number } = { maxWaiters: MAX_WAITERS },
) => {
  const readStore = createEmbeddedReadStore();
  await readStore
    .collection(COUNTERS)
    .bulkWrite(['c-1', 'c-2', 'c-3'].map((id) => ({ insertOne: { document: counterDoc(id) } })));
  app = createHttpApp({
    auth: { disabled: true },
    logger: createLogger({ level: 'silent' }),
    bodyLimit: 1024,
  });
  const readApi: ReadApi = registerReadApi(app, {
    queries: [fixtureQueryRoutes],
    readStore,
    cache: createLruCache(),
    logger: app.log,
    waitForCheckpoint: wait,
    config: {
      consistencyTimeoutMs: 10_000,
      cacheTtlSeconds: 60,
      cacheTimeoutMs: 500,
      ...(maxWaiters !== undefined && { consistencyMaxWaiters: maxWaiters }),
    },
  });
  await app.ready();
  const started = app;
  const get = (id: string, position?: string) =>
    started.inject({ url: `/counters/${id}`, headers: position ? { 'x-min-position': position } : {} });
  return { readApi, get };
};

describe('x-min-position: a bound on reads waiting at once', () => {
  it('answers one more 503 with Retry-After at once, and still serves those waiting', async () => {
    const checkpoints = controlledCheckpoints();
    const { readApi, get } = await start(checkpoints.wait);
    const waiting = [get('c-1', '10'), get('c-2', '10')];
    await expect.poll(() => checkpoints.waiting, { timeout: 5_000 }).toBe(MAX_WAITERS);

    const refused = await get('c-3', '10');
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({
      type: 'urn:eventfold:problem:too-many-waiters',
      status: 503,
      instance: '/counters/c-3',
    });
    expect(refused.json().detail).toMatch(/2 requests are already waiting/);
    expect(refused.headers['retry-after']).toBe('1');
    // It did not wait, nor count as a wait, and a read without a position is not held up.
    expect(checkpoints.waiting).toBe(MAX_WAITERS);
    expect(readApi.stats().consistencyWaits).toBe(MAX_WAITERS);
    expect((await get('c-3')).statusCode).toBe(200);

    checkpoints.reach();
    for (const response of await Promise.all(waiting)) expect(response.statusCode).toBe(200);
    // Their slots are free again.
    const again = get('c-3', '10');
    await expect.poll(() => checkpoints.waiting, { timeout: 5_000 }).toBe(1);
    checkpoints.reach();
    expect((await again).statusCode).toBe(200);
  });

  it('frees a slot when a wait times out or fails', async () => {
    const never: WaitForCheckpoint = async () => false;
    const { get } = await start(never, { maxWaiters: 1 });
    for (let i = 0; i < 3; i++) {
      const response = await get('c-1', '10');
      expect(response.statusCode).toBe(503);
      expect(response.json().type).toBe('urn:eventfold:problem:consistency-timeout');
    }
  });

  it('has no bound when none is configured', async () => {
    const checkpoints = controlledCheckpoints();
    const { get } = await start(checkpoints.wait, {});
    const waiting = Array.from({ length: 20 }, () => get('c-1', '10'));
    await expect.poll(() => checkpoints.waiting, { timeout: 5_000 }).toBe(20);
    checkpoints.reach();
    for (const response of await Promise.all(waiting)) expect(response.statusCode).toBe(200);
  });
});
