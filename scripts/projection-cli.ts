import { loadAppConfigOrExit } from '../app/config.js';
import { projectionsOf } from '../app/module.js';
import { modules } from '../app/modules.js';
import { createCache } from '../infra/cache/create-cache.js';
import { createEventStore } from '../infra/event-store/create-event-store.js';
import { createLogger } from '../infra/logger.js';
import { createReadStore } from '../infra/read-store/create-read-store.js';
import type { Projection } from '../projections/engine/projection.js';

/**
 * What the projection scripts (parked, projections:rebuild) share: configuration, stores, and every
 * module's projections by name (app/modules.ts).
 */
export const openProjectionCli = async () => {
  const config = loadAppConfigOrExit(2);
  // Scripts talk to the operator on the terminal; only warnings and errors go to the JSON log.
  const logger = createLogger({
    level: ['debug', 'trace', 'silent'].includes(config.LOG_LEVEL) ? config.LOG_LEVEL : 'warn',
  });
  const eventStore = await createEventStore(config);
  // Primary reads: the scripts read back checkpoints, parked entries and documents they just wrote.
  const readStore = await createReadStore({ ...config, MONGO_READ_PREFERENCE: 'primary' });
  const cache = await createCache(config);
  const embedded = !config.MONGO_URL;
  // An embedded read model built here is this process's own: it has no business in the app's cache.
  const projections = projectionsOf(
    modules,
    embedded ? {} : { cache: { cache, ttlSeconds: config.CACHE_TTL_SECONDS } },
  );

  return {
    config,
    logger,
    eventStore,
    readStore,
    cache,
    projections,
    /** The embedded read store lives in the memory of the process that runs it: this one, not the app. */
    embedded,

    /** The projections a command names, or all of them; exits with the known names on a typo. */
    select(name: string | undefined): Projection[] {
      if (name === undefined) return projections;
      const found = projections.filter((projection) => projection.name === name);
      if (found.length === 0) {
        console.error(`no projection named ${name}; known: ${projections.map((p) => p.name).join(', ')}`);
        process.exit(2);
      }
      return found;
    },

    async close() {
      await Promise.allSettled([eventStore.close(), readStore.close(), cache.close()]);
    },
  };
};

export type ProjectionCli = Awaited<ReturnType<typeof openProjectionCli>>;
