import type { Config } from '../config.js';
import { createEmbeddedReadStore } from './embedded-read-store.js';
import type { ReadStore } from './read-store.js';

/**
 * MongoDB when MONGO_URL is set; otherwise the embedded store, whose read models live in memory.
 * The driver is imported only when it is used.
 */
export const createReadStore = async (
  config: Pick<Config, 'MONGO_URL' | 'MONGO_DB' | 'MONGO_READ_PREFERENCE' | 'MONGO_WRITE_TIMEOUT_MS'>,
): Promise<ReadStore> => {
  if (!config.MONGO_URL) return createEmbeddedReadStore();
  const { createMongoReadStore } = await import('./mongo-read-store.js');
  return createMongoReadStore({
    url: config.MONGO_URL,
    dbName: config.MONGO_DB,
    readPreference: config.MONGO_READ_PREFERENCE,
    writeTimeoutMs: config.MONGO_WRITE_TIMEOUT_MS,
  });
};
