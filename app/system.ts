import { registerCommandApi } from '../commands/command-api.js';
import { createCommandHandler } from '../commands/pipeline/handle-command.js';
import { type CommandInstrumentation, instrumentCommands } from '../commands/pipeline/instrument-commands.js';
import type { Authentication } from '../infra/auth/authenticate.js';
import { createAuthentication } from '../infra/auth/create-authentication.js';
import { createCache } from '../infra/cache/create-cache.js';
import type { Role } from '../infra/config.js';
import { createEventStore } from '../infra/event-store/create-event-store.js';
import { createSnapshotStore } from '../infra/event-store/create-snapshot-store.js';
import { cacheCheck, eventStoreCheck, readStoreCheck } from '../infra/health/dependency-checks.js';
import { registerHealthRoutes } from '../infra/health/health-routes.js';
import { projectionLagCheck } from '../infra/health/projection-lag-check.js';
import { createReadiness, type HealthCheck, type Readiness } from '../infra/health/readiness.js';
import { createHttpApp, type HttpApp } from '../infra/http/create-http-app.js';
import { closeHttp } from '../infra/lifecycle/close-http.js';
import type { Logger } from '../infra/logger.js';
import { createMetrics, type Metrics } from '../infra/metrics/metrics.js';
import { createReadStore } from '../infra/read-store/create-read-store.js';
import type { Tracing } from '../infra/tracing/tracing.js';
import { checkpointStore } from '../projections/engine/checkpoint-store.js';
import { skippableFor } from '../projections/engine/skippable.js';
import { startProjections } from '../projections/start-projections.js';
import { registerApiDocs } from '../read-api/http/api-docs.js';
import { registerReadApi } from '../read-api/read-api.js';
import type { AppConfig } from './config.js';
import {
  type AnyModule,
  commandRoutesOf,
  openApiTagsOf,
  projectionsOf,
  queryRoutesOf,
  startProcessManagers,
} from './module.js';
import { modules as appModules } from './modules.js';
import { readModelsOnDisk } from './read-models-on-disk.js';
import {
  registerProjectionMetrics,
  registerReadApiMetrics,
  registerReadinessMetrics,
} from './scrape-collectors.js';

export type SystemOptions = {
  /** Given when tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT); started by the caller, before this. */
  tracing?: Tracing;
  /** Default: a registry of the system's own. */
  metrics?: Metrics;
  /** Default: the app's modules (app/modules.ts). `config` must hold their settings (loadAppConfig). */
  modules?: readonly AnyModule[];
  /** Default: what the AUTH_* settings choose (infra/auth/create-authentication.ts). */
  auth?: Authentication;
};

export type System = {
  app: HttpApp;
  roles: readonly Role[];
  /** Where the server listens, e.g. http://127.0.0.1:3000 (with PORT=0, the port it was given). */
  url: string;
  readiness: Readiness;
  metrics: Metrics;
  /**
   * Not ready at once, then: stop accepting requests and finish those in flight; stop the process
   * manager and the projectors (each writes its pending batch and checkpoint); close the clients.
   */
  stop(): Promise<void>;
};

/**
 * The composition root: the one place that picks adapters from configuration and hands them to
 * the layers. Everything below it receives its dependencies as arguments.
 *
 * ROLES picks what this process runs; each role opens only the clients it needs:
 * - write: the command API. It needs the event store only.
 * - read: the read API, stateless, so it scales out to any number of replicas. With no projector
 *   in the process it waits for positions by polling the checkpoints, which works across processes.
 * - projector: the projections and the process managers. A process manager runs here
 *   rather than with `write` because it is a subscriber, like a projector: it follows the log from a
 *   checkpoint and needs no HTTP traffic, so write replicas scale with requests while exactly one
 *   process follows the log. Each projection runs in one process at a time, whoever holds its
 *   lease; other projector replicas stand by and take over when it stops or dies.
 * Every role serves /health/live, /health/ready and /metrics.
 */
export const startSystem = async (
  config: AppConfig,
  logger: Logger,
  { tracing, metrics = createMetrics(), modules = appModules, auth }: SystemOptions = {},
): Promise<System> => {
  // First: a configuration that would leave the API open by mistake stops start-up before anything opens.
  const authentication = auth ?? (await createAuthentication(config, logger));
  const roles = config.ROLES;
  const writes = roles.includes('write');
  const reads = roles.includes('read');
  const projects = roles.includes('projector');
  const measuresLag = reads && config.READY_MAX_LAG > 0;

  if ((reads || projects) && !(reads && projects) && !config.MONGO_URL)
    logger.warn(
      { roles },
      'the embedded read store lives in this process: a read API without a projector here (or a projector without a read API) shares no read models with other processes; set MONGO_URL to split roles',
    );

  // Every append, from any role, is counted. A process that appends (write, projector) owns an
  // embedded store: it takes DATA_DIR for itself, and checks the log before using it.
  const eventStore =
    writes || projects || measuresLag
      ? metrics.countAppends(await createEventStore(config, { exclusive: writes || projects, log: logger }))
      : undefined;
  // A projector keeps the embedded read models under DATA_DIR (this process owns it) with their
  // checkpoints, so a restart resumes from them instead of replaying the log.
  const readStore =
    reads || projects
      ? await createReadStore(config, {
          ...(projects &&
            eventStore &&
            !config.EVENTSTORE_URL && {
              persist: readModelsOnDisk({
                dataDir: config.DATA_DIR,
                eventStore,
                logger,
                projections: projectionsOf(modules, {}).map((projection) => projection.name),
              }),
            }),
        })
      : undefined;
  // Queries read from replicas (MONGO_READ_PREFERENCE). Projectors, and reads that must see a
  // given position, use a primary-reading store: a secondary may lag the checkpoint it reports.
  const primaryReadStore =
    readStore && config.MONGO_URL
      ? await createReadStore({ ...config, MONGO_READ_PREFERENCE: 'primary' })
      : readStore;
  const cache =
    reads || projects
      ? await createCache(config, {
          onConnectionError: (error) =>
            logger.warn({ err: error }, 'cache connection error; reads fall back to the read model'),
        })
      : undefined;

  // Beside the log, for the processes that run commands; aggregates opt in (Aggregate.snapshot).
  const snapshotStore = eventStore && (writes || projects) ? await createSnapshotStore(config) : undefined;
  const snapshots = snapshotStore && {
    store: snapshotStore,
    onError: (error: unknown, streamId: string) =>
      logger.warn(
        { err: error, streamId },
        'a snapshot was not used or not stored; the stream is read instead',
      ),
  };

  const instrumentation: CommandInstrumentation = {
    onOutcome: metrics.countCommand,
    ...(tracing && { traceparent: tracing.traceparent }),
  };

  // Every module's read models, for the projectors, and by name for the read role's waits and lag check.
  const projectionNames = projectionsOf(modules, {}).map((projection) => projection.name);
  const projections =
    projects && eventStore && primaryReadStore && cache
      ? startProjections({
          eventStore,
          readStore: primaryReadStore,
          logger,
          config,
          projections: projectionsOf(modules, {
            cache: { cache, ttlSeconds: config.CACHE_TTL_SECONDS },
          }).map((projection) => tracing?.traceProjection(projection) ?? projection),
        })
      : undefined;
  const processManagers =
    projects && eventStore
      ? startProcessManagers(
          modules,
          {
            eventStore,
            handle: instrumentCommands(
              createCommandHandler({
                eventStore,
                maxRetries: config.COMMAND_MAX_RETRIES,
                stateCacheSize: config.COMMAND_STATE_CACHE_SIZE,
                snapshots,
              }),
              instrumentation,
            ),
            logger,
            // One projector replica drives each; the others stand by, as for each projection.
            ...(primaryReadStore && {
              leases: { readStore: primaryReadStore, ttlMs: config.PROJECTION_LEASE_TTL_MS },
            }),
          },
          config,
        )
      : [];

  const app = createHttpApp({
    auth: authentication,
    logger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    openApiTags: openApiTagsOf(modules),
    limits: {
      maxConnections: config.HTTP_MAX_CONNECTIONS,
      connectionTimeoutMs: config.HTTP_CONNECTION_TIMEOUT_MS,
      requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
      keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxRequestsPerSocket: config.HTTP_MAX_REQUESTS_PER_SOCKET,
      maxHeaderSizeBytes: config.HTTP_MAX_HEADER_SIZE_BYTES,
    },
    corsOrigins: config.CORS_ORIGINS,
    rateLimit: {
      max: config.RATE_LIMIT_MAX,
      anonymousMax: config.RATE_LIMIT_ANONYMOUS_MAX,
      windowMs: config.RATE_LIMIT_WINDOW_MS,
      // Shared by every replica; the same Redis as the cache, under keys of its own.
      ...(config.REDIS_URL && {
        redis: { url: config.REDIS_URL, keyPrefix: `${config.REDIS_KEY_PREFIX}ratelimit:` },
      }),
    },
  });
  metrics.registerRoutes(app, { token: config.METRICS_TOKEN });
  if (writes && eventStore)
    registerCommandApi(app, {
      eventStore,
      maxRetries: config.COMMAND_MAX_RETRIES,
      stateCacheSize: config.COMMAND_STATE_CACHE_SIZE,
      snapshots,
      instrumentation,
      idempotencyRetentionMs: Math.round(config.IDEMPOTENCY_RETENTION_HOURS * 3_600_000),
      routes: commandRoutesOf(modules, config),
    });
  if (reads && readStore && cache) {
    const readApi = registerReadApi(app, {
      queries: queryRoutesOf(modules),
      readStore,
      ...(primaryReadStore && { consistentReadStore: primaryReadStore }),
      cache,
      logger,
      ...(projections && { waitForCheckpoint: projections.waitForCheckpoint }),
      ...(!projections && eventStore && { skippable: skippableFor(eventStore, projectionsOf(modules, {})) }),
      config: {
        consistencyTimeoutMs: config.READ_CONSISTENCY_TIMEOUT_MS,
        consistencyMaxWaiters: config.READ_CONSISTENCY_MAX_WAITERS,
        apiDocs: config.API_DOCS,
        cacheTtlSeconds: config.CACHE_TTL_SECONDS,
        cacheTimeoutMs: config.READ_CACHE_TIMEOUT_MS,
      },
    });
    registerReadApiMetrics(metrics.registry, readApi.stats);
  } else if (writes) {
    // The read API serves the docs of every route; a write-only process serves its own.
    registerApiDocs(app, config.API_DOCS);
  }
  if (projections) registerProjectionMetrics(metrics.registry, projections.stats);

  const checks: HealthCheck[] = [];
  if (eventStore && (writes || projects)) checks.push(eventStoreCheck(eventStore));
  if (readStore)
    checks.push(readStoreCheck(reads ? readStore : (primaryReadStore ?? readStore), { writes: projects }));
  if (cache) checks.push(cacheCheck(cache, { critical: !reads }));
  if (measuresLag && eventStore && primaryReadStore)
    checks.push(
      projectionLagCheck({
        eventStore,
        readCheckpoint: checkpointStore(primaryReadStore).read,
        projections: projectionNames,
        maxLag: config.READY_MAX_LAG,
      }),
    );
  const readiness = createReadiness({ checks, timeoutMs: config.READY_CHECK_TIMEOUT_MS });
  registerHealthRoutes(app, readiness);
  registerReadinessMetrics(metrics.registry, readiness);

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= stopEverything();
    return stopped;
  };
  const stopEverything = async () => {
    readiness.drain();
    await closeHttp(app);
    // Settled, not all: one subscriber failing to stop must not keep the other running or the
    // clients open.
    const subscribers = [
      ...processManagers.map(({ name, running }) => ({ name, stop: () => running.stop() })),
      ...(projections ? [{ name: 'projections', stop: () => projections.stop() }] : []),
    ];
    const stopped = await Promise.allSettled(subscribers.map((subscriber) => subscriber.stop()));
    stopped.forEach((result, i) => {
      if (result.status === 'rejected')
        logger.error(
          { err: result.reason, subscriber: subscribers[i]?.name },
          'a subscriber did not stop cleanly',
        );
    });
    const clients = [
      eventStore,
      snapshotStore,
      readStore,
      primaryReadStore === readStore ? undefined : primaryReadStore,
      cache,
    ];
    const closed = await Promise.allSettled(clients.map((client) => client?.close()));
    for (const result of closed)
      if (result.status === 'rejected') logger.warn({ err: result.reason }, 'a client did not close cleanly');
  };

  let url: string;
  try {
    url = await app.listen({ port: config.PORT, host: config.HOST });
  } catch (error) {
    // The port is taken, say: release the leases and clients already held instead of exiting
    // with them, so another instance can take over at once.
    await stop();
    throw error;
  }
  logger.info({ roles, url }, 'eventfold started');

  return {
    app,
    roles,
    url,
    readiness,
    metrics,
    stop,
  };
};
