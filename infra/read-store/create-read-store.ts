import type { Config } from '../config.js';
import { createEmbeddedReadStore } from './embedded-read-store.js';
import { openReadModelsFile, type ReadModelsFileOptions } from './read-models-file.js';
import type { ReadStore } from './read-store.js';

/**
 * MongoDB when MONGO_URL is set; otherwise the embedded store: on disk under DATA_DIR when `persist`
 * is given (the process that owns DATA_DIR: see read-models-file.ts), else in memory. The driver is
 * imported only when it is used.
 */
export const createReadStore = async (
  config: Pick<Config, 'MONGO_URL' | 'MONGO_DB' | 'MONGO_READ_PREFERENCE' | 'MONGO_WRITE_TIMEOUT_MS'>,
  { persist }: { persist?: ReadModelsFileOptions } = {},
): Promise<ReadStore> => {
  if (!config.MONGO_URL) return persist ? openReadModelsFile(persist) : createEmbeddedReadStore();
  const { createMongoReadStore } = await import('./mongo-read-store.js');
  return createMongoReadStore({
    url: config.MONGO_URL,
    dbName: config.MONGO_DB,
    readPreference: config.MONGO_READ_PREFERENCE,
    writeTimeoutMs: config.MONGO_WRITE_TIMEOUT_MS,
  });
};
