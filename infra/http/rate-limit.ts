import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { backoffDelayMs } from '../retry/backoff.js';
import type { HttpApp } from './create-http-app.js';
import { HttpProblem } from './problem-details.js';

export type RateLimits = {
  /** Requests one caller (a verified token's subject) may make per window (RATE_LIMIT_MAX); 0: no limit. */
  max: number;
  /**
   * Requests one address may make per window without a verified token: none sent, or one that did
   * not verify (RATE_LIMIT_ANONYMOUS_MAX); 0: no limit. With authentication off every caller is
   * counted by address, against `max`.
   */
  anonymousMax: number;
  /** The window, in ms (RATE_LIMIT_WINDOW_MS); a count starts at a key's first request. */
  windowMs: number;
  /** Set (REDIS_URL): counts kept in Redis under `keyPrefix`, so every replica shares them. Unset: in memory. */
  redis?: { url: string; keyPrefix: string };
};

/**
 * Counting is a safeguard, not a dependency: while Redis is away, requests go through uncounted
 * (skipOnError below) rather than fail or wait. So nothing queues while disconnected and a command
 * gives up quickly; a local INCR takes well under a millisecond.
 */
const REDIS_COMMAND_TIMEOUT_MS = 250;

/** Keys counted in memory (per address or caller); the least recently seen beyond it are dropped. */
const MEMORY_KEYS = 10_000;

const connectRedis = async ({ url, keyPrefix }: { url: string; keyPrefix: string }, logger: Logger) => {
  // Loaded only when used, as for the cache.
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, {
    keyPrefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1_000,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => backoffDelayMs(attempt, { baseMs: 100, maxMs: 1_000, jitter: 'none' }),
  });
  redis.on('error', (error) =>
    logger.warn({ err: error }, 'rate-limit store (Redis) failed; requests go through uncounted meanwhile'),
  );
  // Start-up waits for the first attempt only: without Redis it starts, uncounted, and reconnects.
  await redis.connect().catch(() => {});
  return redis;
};

/**
 * The rate-limit hook (@fastify/rate-limit), added to `app` itself: give it a plugin that skips
 * encapsulation (see rateLimitPlugin), after the hook that sets request.principal and before the one
 * that refuses requests without it. Fixed windows per key: the caller's subject when its token
 * verified, its address otherwise (IPv6 by /64, as the plugin does), so failed and missing tokens
 * are counted too. Routes with `config: { rateLimit: false }` (the health probes) are not counted.
 * Beyond the limit: a 429 problem with Retry-After and the draft RateLimit-* headers.
 */
const registerRateLimits = async (
  app: HttpApp,
  limits: RateLimits,
  { perCaller }: { perCaller: boolean },
) => {
  const redis: Redis | undefined = limits.redis && (await connectRedis(limits.redis, app.log));
  if (redis)
    app.addHook('onClose', async () => {
      await redis.quit().catch(() => redis.disconnect());
    });

  const budgetOf = (request: FastifyRequest) =>
    perCaller && request.principal
      ? { key: `caller:${request.principal.subject}`, max: limits.max }
      : { key: `address:${normalizeIP(request.ip)}`, max: perCaller ? limits.anonymousMax : limits.max };

  await app.register(fastifyRateLimit, {
    // Not per route (the plugin would add its hook to each route, after every app-wide hook):
    // added once, below, where it belongs among the app's hooks.
    global: false,
    timeWindow: limits.windowMs,
    keyGenerator: (request) => budgetOf(request).key,
    max: (request) => budgetOf(request).max,
    allowList: (request) => request.routeOptions.config.rateLimit === false || budgetOf(request).max === 0,
    enableDraftSpec: true,
    skipOnError: true,
    ...(redis ? { redis, nameSpace: '' } : { cache: MEMORY_KEYS }),
    errorResponseBuilder: (_request, { max, ttl, after }) =>
      new HttpProblem(
        429,
        'rate-limited',
        'Too many requests',
        `more than ${max} requests in ${limits.windowMs} ms; retry in ${after}`,
        { 'retry-after': String(Math.max(1, Math.ceil(ttl / 1000))) },
      ),
  });
  // Typed for a route's preHandler; it takes any request and reply.
  app.addHook('onRequest', app.rateLimit() as unknown as onRequestAsyncHookHandler);
};

/**
 * registerRateLimits as a plugin that is not encapsulated, so the hook lands on the app itself and
 * in the order the plugin was registered in. The `skip-override` symbol is what fastify-plugin sets;
 * it is set here by hand because fastify-plugin is not a dependency of ours, only of Fastify's.
 */
export const rateLimitPlugin = (limits: RateLimits, options: { perCaller: boolean }) =>
  Object.assign((app: HttpApp) => registerRateLimits(app, limits, options), {
    [Symbol.for('skip-override')]: true,
  });
