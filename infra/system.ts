import { registerCommandApi } from '../commands/command-api.js';
import { startProjections } from '../projections/start-projections.js';
import { registerReadApi } from '../read-api/read-api.js';
import { createCache } from './cache/create-cache.js';
import type { Config } from './config.js';
import { createEventStore } from './event-store/create-event-store.js';
import { createHttpApp } from './http/create-http-app.js';
import type { Logger } from './logger.js';
import { createReadStore } from './read-store/create-read-store.js';

/**
 * The composition root: the one place that picks adapters from configuration and hands them to
 * the layers. Everything below it receives its dependencies as arguments.
 */
export const startSystem = async (config: Config, logger: Logger) => {
  const eventStore = createEventStore(config);
  // Queries read from replicas (MONGO_READ_PREFERENCE). Projectors, and reads that must see a
  // given position, use a primary-reading store: a secondary may lag the checkpoint it reports.
  const readStore = await createReadStore(config);
  const primaryReadStore = config.MONGO_URL
    ? await createReadStore({ ...config, MONGO_READ_PREFERENCE: 'primary' })
    : readStore;
  const cache = createCache(config, {
    onConnectionError: (error) =>
      logger.warn({ err: error }, 'cache connection error; reads fall back to the read model'),
  });

  const projections = startProjections({
    eventStore,
    readStore: primaryReadStore,
    cache,
    logger,
    config,
  });

  const app = createHttpApp({ logger, bodyLimit: config.BODY_LIMIT_BYTES });
  registerCommandApi(app, { eventStore, maxRetries: config.COMMAND_MAX_RETRIES });
  registerReadApi(app, {
    readStore,
    consistentReadStore: primaryReadStore,
    cache,
    logger,
    waitForCheckpoint: projections.waitForCheckpoint,
    config: {
      consistencyTimeoutMs: config.READ_CONSISTENCY_TIMEOUT_MS,
      cacheTtlSeconds: config.CACHE_TTL_SECONDS,
      cacheTimeoutMs: config.READ_CACHE_TIMEOUT_MS,
    },
  });
  await app.listen({ port: config.PORT, host: config.HOST });

  return {
    app,
    projections,
    /** Stops accepting requests, lets in-flight ones finish, flushes the projectors, then closes the stores. */
    async stop() {
      await app.close();
      await projections.stop();
      await Promise.allSettled([
        eventStore.close(),
        readStore.close(),
        primaryReadStore.close(),
        cache.close(),
      ]);
    },
  };
};
