import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Authentication } from '../auth/authenticate.js';
import { bearer, testAuthentication } from '../auth/testing/test-tokens.js';
import { type RedisServer, redisServerAvailable, startRedisServer } from '../cache/testing/redis-server.js';
import { registerHealthRoutes } from '../health/health-routes.js';
import { createReadiness } from '../health/readiness.js';
import { createLogger } from '../logger.js';
import { createHttpApp, type HttpApp } from './create-http-app.js';
import type { RateLimits } from './rate-limit.js';

const logger = createLogger({ level: 'silent' });
const apps: HttpApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

const appWith = async (rateLimit: RateLimits | undefined, auth: Authentication = testAuthentication) => {
  const app = createHttpApp({ logger, bodyLimit: 1024, auth, ...(rateLimit && { rateLimit }) });
  apps.push(app);
  app.get('/things', async () => ({ ok: true }));
  registerHealthRoutes(app, createReadiness({ checks: [], timeoutMs: 1000 }));
  await app.ready();
  return app;
};

const get = (
  app: HttpApp,
  { as, from = '10.0.0.1', url = '/things' }: { as?: string; from?: string; url?: string },
) => app.inject({ url, remoteAddress: from, headers: as === undefined ? {} : { authorization: as } });

const statuses = async (count: number, request: () => ReturnType<typeof get>) => {
  const seen: number[] = [];
  for (let i = 0; i < count; i++) seen.push((await request()).statusCode);
  return seen;
};

const limits: RateLimits = { max: 3, anonymousMax: 2, windowMs: 60_000 };

describe('rate limits', () => {
  it('gives each caller a budget of its own, counted by the subject of its verified token', async () => {
    const app = await appWith(limits);
    // Both from one address, as callers behind one proxy or NAT are.
    expect(await statuses(4, () => get(app, { as: bearer('alice') }))).toEqual([200, 200, 200, 429]);
    expect(await statuses(4, () => get(app, { as: bearer('bob') }))).toEqual([200, 200, 200, 429]);
    // A caller's budget is not its address's: alice from elsewhere is still alice.
    expect((await get(app, { as: bearer('alice'), from: '10.9.9.9' })).statusCode).toBe(429);
  });

  it('counts requests without a verified token by address, before they are refused, against the smaller budget', async () => {
    const app = await appWith(limits);
    const missing = () => get(app, {});
    const forged = () => get(app, { as: `${bearer('mallory').slice(0, -4)}AAAA` });
    const garbage = () => get(app, { as: 'Bearer not-a-jwt' });
    // Missing, forged and malformed tokens all draw on the address's budget of 2.
    expect([(await missing()).statusCode, (await forged()).statusCode]).toEqual([401, 401]);
    expect(await statuses(3, garbage)).toEqual([429, 429, 429]);
    // Another address has its own; a verified caller from the flooding address is not held up by it.
    expect((await get(app, { from: '10.0.0.2' })).statusCode).toBe(401);
    expect((await get(app, { as: bearer('alice') })).statusCode).toBe(200);
  });

  it('answers beyond the limit with a 429 problem, Retry-After and RateLimit headers', async () => {
    const app = await appWith(limits);
    const allowed = await get(app, { as: bearer('carol') });
    expect(allowed.headers).toMatchObject({ 'ratelimit-limit': '3', 'ratelimit-remaining': '2' });
    await get(app, { as: bearer('carol') });
    await get(app, { as: bearer('carol') });
    const refused = await get(app, { as: bearer('carol') });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({
      type: 'urn:eventfold:problem:rate-limited',
      status: 429,
      title: 'Too many requests',
      instance: '/things',
      correlationId: expect.any(String),
    });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers).toMatchObject({ 'ratelimit-limit': '3', 'ratelimit-remaining': '0' });
    expect(Number(refused.headers['ratelimit-reset'])).toBe(retryAfter);
    expect(refused.headers['x-correlation-id']).toBe(refused.json().correlationId);
  });

  it('never limits the health probes, with or without a token', async () => {
    const app = await appWith({ ...limits, anonymousMax: 1 });
    expect(await statuses(2, () => get(app, {}))).toEqual([401, 429]);
    for (const url of ['/health/live', '/health/ready'])
      expect(await statuses(5, () => get(app, { url }))).toEqual([200, 200, 200, 200, 200]);
    expect((await get(app, { url: '/health/live' })).headers['ratelimit-limit']).toBeUndefined();
  });

  it('counts unknown routes too (a scan is limited like anything else)', async () => {
    const app = await appWith(limits);
    expect(await statuses(3, () => get(app, { url: `/nowhere/${randomUUID()}` }))).toEqual([401, 401, 429]);
    expect(
      await statuses(4, () => get(app, { as: bearer('alice'), url: `/nowhere/${randomUUID()}` })),
    ).toEqual([404, 404, 404, 429]);
  });

  it('starts a new window once the old one is over', async () => {
    const app = await appWith({ ...limits, windowMs: 300 });
    expect(await statuses(4, () => get(app, { as: bearer('dan') }))).toEqual([200, 200, 200, 429]);
    await sleep(400);
    expect((await get(app, { as: bearer('dan') })).statusCode).toBe(200);
  });

  it('is off when not configured, and a budget of 0 is no limit', async () => {
    const off = await appWith(undefined);
    expect(await statuses(10, () => get(off, { as: bearer('erin') }))).toEqual(Array(10).fill(200));
    expect((await get(off, { as: bearer('erin') })).headers['ratelimit-limit']).toBeUndefined();

    const noCallerLimit = await appWith({ ...limits, max: 0 });
    expect(await statuses(10, () => get(noCallerLimit, { as: bearer('erin') }))).toEqual(Array(10).fill(200));
    expect(await statuses(3, () => get(noCallerLimit, {}))).toEqual([401, 401, 429]);

    const noAnonymousLimit = await appWith({ ...limits, anonymousMax: 0 });
    expect(await statuses(10, () => get(noAnonymousLimit, {}))).toEqual(Array(10).fill(401));
  });

  it('with authentication off, counts every address against the caller budget', async () => {
    const app = await appWith(limits, { disabled: true });
    expect(await statuses(4, () => get(app, {}))).toEqual([200, 200, 200, 429]);
    expect(await statuses(4, () => get(app, { from: '10.0.0.2' }))).toEqual([200, 200, 200, 429]);
  });
});

const available = redisServerAvailable();
if (!available)
  console.warn('skipped: Redis-backed rate limits — redis-server not on PATH (apt-get install redis-server)');

describe.skipIf(!available)('rate limits in Redis', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('are shared by every app on the same Redis, under the configured key prefix', async () => {
    const keyPrefix = `test:${randomUUID()}:ratelimit:`;
    const shared = { ...limits, redis: { url: server.url, keyPrefix } };
    const [one, two] = [await appWith(shared), await appWith(shared)];
    if (!one || !two) throw new Error('two apps expected');
    expect((await get(one, { as: bearer('alice') })).statusCode).toBe(200);
    expect((await get(two, { as: bearer('alice') })).statusCode).toBe(200);
    expect((await get(one, { as: bearer('alice') })).statusCode).toBe(200);
    expect((await get(two, { as: bearer('alice') })).statusCode).toBe(429);
    expect((await get(one, { as: bearer('bob') })).statusCode).toBe(200);
    expect(await statuses(3, () => get(two, {}))).toEqual([401, 401, 429]);
    expect((await get(one, {})).statusCode).toBe(429);

    const redis = new Redis(server.url);
    try {
      const keys = (await redis.keys(`${keyPrefix}*`)).sort();
      expect(keys).toEqual([
        `${keyPrefix}address:10.0.0.1`,
        `${keyPrefix}caller:alice`,
        `${keyPrefix}caller:bob`,
      ]);
      const ttl = await redis.pttl(`${keyPrefix}caller:alice`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    } finally {
      redis.disconnect();
    }
  });

  it('let requests through uncounted while Redis is away, rather than fail them', async () => {
    const own = await startRedisServer();
    const app = await appWith({ ...limits, redis: { url: own.url, keyPrefix: 'test:away:' } });
    expect((await get(app, { as: bearer('alice') })).statusCode).toBe(200);
    await own.stop();
    expect(await statuses(5, () => get(app, { as: bearer('alice') }))).toEqual(Array(5).fill(200));
  });

  it('an app starts without a Redis to count in', async () => {
    const gone = await startRedisServer();
    await gone.stop();
    const app = await appWith({ ...limits, redis: { url: gone.url, keyPrefix: 'test:gone:' } });
    expect(await statuses(5, () => get(app, { as: bearer('alice') }))).toEqual(Array(5).fill(200));
  });
});
