import fastifyEtag from '@fastify/etag';
import type { Cache } from '../infra/cache/cache.js';
import type { HttpApp } from '../infra/http/create-http-app.js';
import type { Logger } from '../infra/logger.js';
import type { ReadStore } from '../infra/read-store/read-store.js';
import { checkpointStore } from '../projections/engine/checkpoint-store.js';
import { createCheckpointWatch, type WaitForCheckpoint } from '../projections/engine/checkpoint-watch.js';
import type { Skippable } from '../projections/engine/skippable.js';
import { createCacheAside } from './cache/cache-aside.js';
import { createConsistencyGate, readHeaders } from './consistency/min-position.js';
import { type ApiDocsAccess, registerApiDocs } from './http/api-docs.js';
import type { QueryContext, QueryRoutes } from './query-module.js';
import { createReadStats, type ReadStats } from './read-stats.js';
import { createDocumentViews } from './views/document-views.js';

export type ReadApiDeps = {
  /** Every module's query routes (queryRoutesOf in app/module.ts), each given the same QueryContext. */
  queries: readonly QueryRoutes[];
  readStore: ReadStore;
  /**
   * Where reads that waited for x-min-position go, and where the checkpoints they wait on are
   * polled. When `readStore` reads from MongoDB secondaries, give one that reads from the primary:
   * a secondary may lag the checkpoint that vouches for the data. Default: `readStore`.
   */
  consistentReadStore?: ReadStore;
  cache: Cache;
  logger: Logger;
  /**
   * The projectors' waitForCheckpoint (startProjections), when they run in this process: answered
   * from their in-process checkpoint notifications. Without it the read API polls the checkpoints
   * collection, with a short backoff, which works from a process of its own.
   */
  waitForCheckpoint?: WaitForCheckpoint;
  /**
   * With the polling wait: how far past a checkpoint the log holds nothing a projection reads
   * (skippableFor, over the event store), so a wait for such a position ends without waiting for
   * the projection's next checkpoint. Without it such a wait lasts until the checkpoint moves.
   */
  skippable?: Skippable;
  config: {
    /** Longest a read waits for x-min-position before it answers 503 (READ_CONSISTENCY_TIMEOUT_MS). */
    consistencyTimeoutMs: number;
    /** Reads waiting for a position at once; one more is answered 503 (READ_CONSISTENCY_MAX_WAITERS). Unset: no bound. */
    consistencyMaxWaiters?: number;
    /** Who may read /docs and /openapi.json (API_DOCS, api-docs.ts); default public. */
    apiDocs?: ApiDocsAccess;
    /** TTL of the entries a read writes back to the cache (CACHE_TTL_SECONDS). */
    cacheTtlSeconds: number;
    /** A cache call slower than this is treated as a miss (READ_CACHE_TIMEOUT_MS). */
    cacheTimeoutMs: number;
  };
};

export type ReadApi = {
  /** A snapshot of the read API's counters (cache hits, misses, errors; consistency waits…). */
  stats(): ReadStats;
};

/**
 * The read API: the modules' query routes, each given one QueryContext (cache-aside over the read
 * models, read-your-writes through x-min-position, checked views, the headers schema), ETags with
 * 304s, and the API docs (/openapi.json, /docs) for every route.
 */
export const registerReadApi = (app: HttpApp, deps: ReadApiDeps): ReadApi => {
  const stats = createReadStats();
  const consistentReadStore = deps.consistentReadStore ?? deps.readStore;
  const wait =
    deps.waitForCheckpoint ??
    createCheckpointWatch({
      poll: { read: checkpointStore(consistentReadStore).read, when: () => true },
      ...(deps.skippable && { skippable: deps.skippable }),
      onError: (error) => deps.logger.warn({ err: error }, 'checkpoint read failed; polling on'),
    }).waitFor;
  const consistent = createConsistencyGate({
    wait,
    timeoutMs: deps.config.consistencyTimeoutMs,
    stats,
    ...(deps.config.consistencyMaxWaiters !== undefined && { maxWaiters: deps.config.consistencyMaxWaiters }),
  });
  const cacheAside = createCacheAside({
    cache: deps.cache,
    logger: deps.logger,
    stats,
    ttlSeconds: deps.config.cacheTtlSeconds,
    timeoutMs: deps.config.cacheTimeoutMs,
  });
  const context: QueryContext = {
    readStores: { usual: deps.readStore, consistent: consistentReadStore },
    cacheAside,
    documentViews: createDocumentViews({ logger: deps.logger, stats }),
    consistent,
    headers: readHeaders(deps.config.consistencyTimeoutMs),
    consistencyTimeoutMs: deps.config.consistencyTimeoutMs,
    stats,
    logger: deps.logger,
  };

  // A scope of its own, so ETags and 304s apply to the query routes only, not to commands.
  app.register(async (scope: HttpApp) => {
    await scope.register(fastifyEtag);
    for (const routes of deps.queries) routes(scope, context);
  });
  registerApiDocs(app, deps.config.apiDocs);

  return { stats: () => ({ ...stats }) };
};
