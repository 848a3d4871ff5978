import { registerCommandApi } from '../../commands/command-api.js';
import type { Authentication } from '../../infra/auth/authenticate.js';
import type { Cache } from '../../infra/cache/cache.js';
import { createLruCache } from '../../infra/cache/lru-cache.js';
import type { EventStore } from '../../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { createHttpApp, type HttpApp } from '../../infra/http/create-http-app.js';
import { createLogger, type Logger } from '../../infra/logger.js';
import { createEmbeddedReadStore } from '../../infra/read-store/embedded-read-store.js';
import type { ReadStore } from '../../infra/read-store/read-store.js';
import type { Projection } from '../../projections/engine/projection.js';
import { type Projections, startProjections } from '../../projections/start-projections.js';
import { registerReadApi } from '../../read-api/read-api.js';
import { loadAppConfig } from '../config.js';
import { type AnyModule, commandRoutesOf, projectionsOf, queryRoutesOf } from '../module.js';
import { modules as appModules } from '../modules.js';

/**
 * The modules' write API, real projectors and read API over in-memory stores, in one app (no
 * process managers: a test starts those it needs): what the end-to-end tests of the read side
 * start. `wait: 'polling'` reads checkpoints as a read API in a process of its own would; the
 * default uses the projectors' in-process notifications.
 */
export const startInProcessApp = async ({
  env = {},
  wait = 'in-process',
  projections: only,
  modules = appModules,
  auth = { disabled: true },
}: {
  env?: Record<string, string>;
  wait?: 'in-process' | 'polling';
  /** Default: every module's projections. Given a cache, to build e.g. a fragile one. */
  projections?: (cache: Cache) => Projection[];
  /** Default: the app's modules. */
  modules?: readonly AnyModule[];
  /** Default: off, every request an admin; tests of who may do what pass testAuthentication. */
  auth?: Authentication;
} = {}) => {
  const config = loadAppConfig(env, modules);
  const logger: Logger = createLogger({ level: 'silent' });
  const eventStore: EventStore = createMemoryEventStore();
  const readStore: ReadStore = createEmbeddedReadStore();
  const cache = createLruCache();
  const projections: Projections = startProjections({
    eventStore,
    readStore,
    logger,
    config,
    projections: only
      ? only(cache)
      : projectionsOf(modules, { cache: { cache, ttlSeconds: config.CACHE_TTL_SECONDS } }),
  });
  const app: HttpApp = createHttpApp({ auth, logger, bodyLimit: 1024 });
  const { handle } = registerCommandApi(app, {
    eventStore,
    maxRetries: 3,
    routes: commandRoutesOf(modules, config),
  });
  registerReadApi(app, {
    queries: queryRoutesOf(modules),
    readStore,
    cache,
    logger,
    ...(wait === 'in-process' && { waitForCheckpoint: projections.waitForCheckpoint }),
    config: { consistencyTimeoutMs: 10_000, cacheTtlSeconds: 60, cacheTimeoutMs: 500 },
  });
  await app.ready();
  return {
    app,
    eventStore,
    readStore,
    handle,
    logger,
    async stop() {
      await app.close();
      await projections.stop();
    },
  };
};

export type InProcessApp = Awaited<ReturnType<typeof startInProcessApp>>;
