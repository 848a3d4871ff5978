import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ReadStore } from '../../infra/read-store/read-store.js';
import type { Projection } from './projection.js';

/** The fresh collection a rebuild writes before it is swapped in. */
export const rebuildCollectionName = (name: string): string => `${name}__rebuild`;

/** Creates the projection's indexes; creating an index that exists changes nothing. */
export const ensureIndexes = async (
  readStore: ReadStore,
  projection: Projection,
  collectionName: (name: string) => string = (name) => name,
): Promise<void> => {
  for (const { name, indexes = [] } of projection.collections) {
    const collection = readStore.collection(collectionName(name));
    for (const { keys, unique } of indexes) await collection.createIndex(keys, { unique: unique ?? false });
  }
};

/** Names a projector or rebuild in leases and parked events: which host and process, and which run. */
export const newInstanceId = (role = 'projector'): string =>
  `${role}@${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
