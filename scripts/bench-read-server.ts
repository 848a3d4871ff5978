/**
 * The server side of `npm run bench:read`, started by scripts/bench-read.ts in a process of its
 * own, so the load generator and the server do not share an event loop. Argument: the scenario.
 * Reports `{ url }` over IPC once it listens, then serves until killed.
 *
 * The read API servers run as `npm start` does by default, in the parts that touch a GET: bearer
 * tokens verified with the development key under BENCH_DATA_DIR (and its cache of verified
 * tokens), LOG_LEVEL and the other settings at their defaults (the parent sends stdout to
 * /dev/null), the request-duration histogram of /metrics. Left out: rate limits (their default
 * budget of 600 a minute per caller would answer most of the load 429) and everything not on the
 * read path (projectors, commands). One setting differs: no limit of requests per connection (see
 * appAsStarted).
 */
import Fastify from 'fastify';
import { createAuthentication } from '../infra/auth/create-authentication.js';
import type { Cache } from '../infra/cache/cache.js';
import { createLruCache } from '../infra/cache/lru-cache.js';
import { createRedisCache } from '../infra/cache/redis-cache.js';
import { loadConfig } from '../infra/config.js';
import { createHttpApp, type HttpApp } from '../infra/http/create-http-app.js';
import { createLogger } from '../infra/logger.js';
import { createMetrics } from '../infra/metrics/metrics.js';
import { createEmbeddedReadStore } from '../infra/read-store/embedded-read-store.js';
import { ACCOUNTS } from '../projections/accounts/accounts-projection.js';
import { AccountParams, AccountView } from '../read-api/accounts/account-views.js';
import { accountQueries } from '../read-api/accounts/index.js';
import { registerReadApi } from '../read-api/read-api.js';
import { BENCH_ACCOUNTS, benchAccountId, benchAccountView, type Scenario } from './bench-read-fixture.js';

/** Forgets everything: every read is a miss that goes to the read model. */
const neverHolds: Cache = {
  get: async () => undefined,
  set: async () => false,
  delete: async () => {},
  ping: async () => {},
  close: async () => {},
};

const bareApp = () => {
  const app = Fastify();
  app.get<{ Params: { id: string } }>('/accounts/:id', async (request) =>
    benchAccountView(Number(request.params.id.slice('bench-'.length))),
  );
  return app;
};

// The defaults a user starts with; only where the development key lives is the bench's, and
// BENCH_LOG_LEVEL, when set, is LOG_LEVEL (to measure what request logging costs).
const config = loadConfig({
  DATA_DIR: process.env.BENCH_DATA_DIR ?? '',
  ...(process.env.BENCH_LOG_LEVEL && { LOG_LEVEL: process.env.BENCH_LOG_LEVEL }),
});

/** The shared HTTP app as the system builds it for a GET: authentication, logger, the metrics hook. */
const appAsStarted = async () => {
  const logger = createLogger({ level: config.LOG_LEVEL });
  const app = createHttpApp({
    auth: await createAuthentication(config, logger, { nodeEnv: 'development' }),
    logger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    // HTTP_MAX_REQUESTS_PER_SOCKET (1000) answers 503 to a client that goes on sending on a
    // connection past its Connection: close, as autocannon does; a browser or undici reconnects.
    limits: { maxRequestsPerSocket: 0 },
  });
  createMetrics({ defaultMetrics: false }).registerRoutes(app);
  return app;
};

const sharedApp = async () => {
  const app = await appAsStarted();
  app.register(async (scope: HttpApp) => {
    scope.get(
      '/accounts/:id',
      { schema: { params: AccountParams, response: { 200: AccountView } } },
      async (request) => benchAccountView(Number(request.params.id.slice('bench-'.length))),
    );
  });
  return app;
};

const readApiApp = async (scenario: Exclude<Scenario, 'bare' | 'app'>) => {
  const readStore = createEmbeddedReadStore();
  await readStore.collection(ACCOUNTS).bulkWrite(
    Array.from({ length: BENCH_ACCOUNTS }, (_, i) => ({
      insertOne: { document: { _id: benchAccountId(i), ...benchAccountView(i) } },
    })),
  );
  const cache =
    scenario === 'miss'
      ? neverHolds
      : scenario === 'hit-redis'
        ? createRedisCache(process.env.BENCH_REDIS_URL ?? '', { keyPrefix: 'bench:' })
        : createLruCache({ maxEntries: BENCH_ACCOUNTS });
  const app = await appAsStarted();
  const readApi = registerReadApi(app, {
    queries: [accountQueries],
    readStore,
    cache,
    logger: app.log,
    config: {
      consistencyTimeoutMs: config.READ_CONSISTENCY_TIMEOUT_MS,
      cacheTtlSeconds: config.CACHE_TTL_SECONDS,
      cacheTimeoutMs: config.READ_CACHE_TIMEOUT_MS,
    },
  });
  await app.ready();
  if (scenario !== 'miss') {
    const warm = Number(process.env.BENCH_IDS ?? 1000);
    const headers = { authorization: `Bearer ${process.env.BENCH_TOKEN ?? ''}` };
    for (let i = 0; i < warm; i++) await app.inject({ url: `/accounts/${benchAccountId(i)}`, headers });
    // Fills do not hold up the response: wait until every warmed id is in the cache.
    while (readApi.stats().cacheFills < warm) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return app;
};

const scenario = process.argv[2] as Scenario;
const app =
  scenario === 'bare' ? bareApp() : scenario === 'app' ? await sharedApp() : await readApiApp(scenario);
const url = await app.listen({ port: 0, host: '127.0.0.1' });
process.send?.({ url });
// The parent asks for the CPU time spent so far, before and after each run: CPU per request is a
// figure the other processes of a shared machine disturb far less than req/s.
process.on('message', (message) => {
  if (message === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpuUs: user + system });
  }
});
// Exit cleanly when the bench is done, so exit hooks (a --cpu-prof profile, say) run.
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
