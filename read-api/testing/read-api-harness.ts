import type { Authentication } from '../../infra/auth/authenticate.js';
import type { Cache } from '../../infra/cache/cache.js';
import { createLruCache } from '../../infra/cache/lru-cache.js';
import { createHttpApp, type HttpApp } from '../../infra/http/create-http-app.js';
import { createLogger } from '../../infra/logger.js';
import { createEmbeddedReadStore } from '../../infra/read-store/embedded-read-store.js';
import type { Collection, Document, ReadStore } from '../../infra/read-store/read-store.js';
import { CHECKPOINTS } from '../../projections/engine/checkpoint-store.js';
import type { QueryRoutes } from '../query-module.js';
import { type ReadApi, type ReadApiDeps, registerReadApi } from '../read-api.js';

/** Counts every call that reaches the wrapped store or cache: "nothing reached the store" is a count of 0. */
export type CallLog = string[];

const countingCollection = <T extends Document>(
  inner: Collection<T>,
  name: string,
  log: CallLog,
): Collection<T> =>
  new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function'
        ? (...args: unknown[]) => {
            log.push(`${name}.${String(property)}`);
            return value.apply(target, args);
          }
        : value;
    },
  });

export const countingReadStore = (inner: ReadStore, log: CallLog): ReadStore => ({
  ...inner,
  collection: (name) => countingCollection(inner.collection(name), name, log),
});

export const countingCache = (inner: Cache, log: CallLog): Cache => ({
  get(key) {
    log.push(`cache.get ${key}`);
    return inner.get(key);
  },
  set(key, value, options) {
    log.push(`cache.set ${key}`);
    return inner.set(key, value, options);
  },
  delete(key) {
    log.push(`cache.delete ${key}`);
    return inner.delete(key);
  },
  ping: () => inner.ping(),
  close: () => inner.close(),
});

export type Harness = {
  app: HttpApp;
  readApi: ReadApi;
  /** The store the seeds go to and the projector would write: the primary. */
  readStore: ReadStore;
  /** With `laggingReplica`: the store plain reads go to, seeded separately to play a lagging replica. */
  replica: ReadStore;
  cache: Cache;
  /** Every read-store and cache call the read API made. */
  calls: CallLog;
  /** Inserts documents into a collection of the primary, as a projector would have written them. */
  seed(collection: string, docs: Document[]): Promise<void>;
  setCheckpoint(projection: string, position: bigint): Promise<void>;
  close(): Promise<void>;
};

/** The read API, with the query routes a test names, on an embedded read store and an in-process cache (unless given others). */
export const startReadApi = async (options: {
  /** The routes under test: a module's query routes (read-api/testing/fixture-query-routes.ts). */
  queries: readonly QueryRoutes[];
  cache?: Cache;
  waitForCheckpoint?: ReadApiDeps['waitForCheckpoint'];
  consistencyTimeoutMs?: number;
  withApp?: (app: HttpApp) => void;
  /** The tags /openapi.json describes (app/module.ts openApiTagsOf). */
  openApiTags?: readonly { name: string; description: string }[];
  /** Plain reads go to a replica of their own; reads that waited for a position, to `readStore`. */
  laggingReplica?: boolean;
  /** Default: off (every request an admin); give one to test who may read what. */
  auth?: Authentication;
}): Promise<Harness> => {
  const readStore = createEmbeddedReadStore();
  const replica = options.laggingReplica ? createEmbeddedReadStore() : readStore;
  const cache = options.cache ?? createLruCache();
  const calls: CallLog = [];
  const app = createHttpApp({
    auth: options.auth ?? { disabled: true },
    logger: createLogger({ level: 'silent' }),
    bodyLimit: 1024,
    ...(options.openApiTags && { openApiTags: options.openApiTags }),
  });
  options.withApp?.(app);
  const readApi = registerReadApi(app, {
    queries: options.queries,
    readStore: countingReadStore(replica, calls),
    ...(options.laggingReplica && { consistentReadStore: countingReadStore(readStore, calls) }),
    cache: countingCache(cache, calls),
    logger: app.log,
    ...(options.waitForCheckpoint && { waitForCheckpoint: options.waitForCheckpoint }),
    config: {
      consistencyTimeoutMs: options.consistencyTimeoutMs ?? 2_000,
      cacheTtlSeconds: 60,
      cacheTimeoutMs: 500,
    },
  });
  await app.ready();

  const insert = (collection: string, docs: Document[]) =>
    readStore
      .collection(collection)
      .bulkWrite(docs.map((document) => ({ insertOne: { document } })))
      .then(() => {});
  return {
    app,
    readApi,
    readStore,
    replica,
    cache,
    calls,
    seed: insert,
    setCheckpoint: (projection, position) =>
      readStore
        .collection(CHECKPOINTS)
        .bulkWrite([
          {
            replaceOne: {
              filter: { _id: projection },
              replacement: {
                _id: projection,
                position: position.toString(),
                updatedAt: new Date().toISOString(),
              },
              upsert: true,
            },
          },
        ])
        .then(() => {}),
    close: async () => {
      await app.close();
      await cache.close();
      await readStore.close();
      await replica.close();
    },
  };
};
