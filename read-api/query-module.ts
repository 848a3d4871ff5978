import type { z } from 'zod';
import type { HttpApp } from '../infra/http/create-http-app.js';
import type { Logger } from '../infra/logger.js';
import type { ReadStore } from '../infra/read-store/read-store.js';
import type { CacheAside } from './cache/cache-aside.js';
import type { ConsistencyGate } from './consistency/min-position.js';
import type { ReadStats } from './read-stats.js';
import type { DocumentViews } from './views/document-views.js';

/**
 * Plain reads go to `usual` (MongoDB secondaries, say); reads that waited for x-min-position go to
 * `consistent`, which must see the data the checkpoint vouches for (the primary).
 */
export type ReadStores = { usual: ReadStore; consistent: ReadStore };

/**
 * Everything a module's query routes read with, built once by the read API (registerReadApi) and
 * handed to every module's routes, so each reads the same way.
 */
export type QueryContext = {
  readStores: ReadStores;
  /** Cache first, read model next; a failing or slow cache is a miss. */
  cacheAside: CacheAside;
  /** Checks each document against the view it answers with: an invalid one is answered as absent. */
  documentViews: DocumentViews;
  /** Read your writes: waits for x-min-position; true when the read must skip the cache. */
  consistent: ConsistencyGate;
  /** The headers schema every read route documents and validates (x-min-position, If-None-Match). */
  headers: z.ZodType;
  /** READ_CONSISTENCY_TIMEOUT_MS, for the routes' documentation of their 503. */
  consistencyTimeoutMs: number;
  /** The read API's counters, for a route that counts something of its own. */
  stats: ReadStats;
  logger: Logger;
};

/**
 * A module's part of the read API: registers its GET routes in the query scope, where ETags and
 * 304s apply. Its folder's index exports it (read-api/accounts/index.ts).
 */
export type QueryRoutes = (app: HttpApp, context: QueryContext) => void;
