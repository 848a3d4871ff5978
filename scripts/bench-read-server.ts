/**
 * The server side of `npm run bench:read`, started by scripts/bench-read.ts in a process of its
 * own, so the load generator and the server do not share an event loop. Argument: the scenario.
 * Reports `{ url }` over IPC once it listens, then serves until killed.
 */
import Fastify from 'fastify';
import type { Cache } from '../infra/cache/cache.js';
import { createLruCache } from '../infra/cache/lru-cache.js';
import { createRedisCache } from '../infra/cache/redis-cache.js';
import { createHttpApp, type HttpApp } from '../infra/http/create-http-app.js';
import { createLogger } from '../infra/logger.js';
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

const sharedApp = async () => {
  const app = createHttpApp({
    auth: { disabled: true },
    logger: createLogger({ level: 'warn' }),
    bodyLimit: 16 * 1024,
  });
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
  // Request logs off: at info level pino writes two lines a request, which would be the benchmark.
  const app = createHttpApp({
    auth: { disabled: true },
    logger: createLogger({ level: 'warn' }),
    bodyLimit: 16 * 1024,
  });
  const readApi = registerReadApi(app, {
    queries: [accountQueries],
    readStore,
    cache,
    logger: app.log,
    config: { consistencyTimeoutMs: 5000, cacheTtlSeconds: 3600, cacheTimeoutMs: 100 },
  });
  await app.ready();
  if (scenario !== 'miss') {
    const warm = Number(process.env.BENCH_IDS ?? 1000);
    for (let i = 0; i < warm; i++) await app.inject({ url: `/accounts/${benchAccountId(i)}` });
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
// Exit cleanly when the bench is done, so exit hooks (a --cpu-prof profile, say) run.
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
