import { describe } from 'vitest';
import { createMongoReadStore } from './mongo-read-store.js';
import { readStoreContract } from './read-store.contract.js';

const url = process.env.MONGO_URL;
if (!url) {
  console.warn(
    'skipped: MongoDB contract — set MONGO_URL (a replica set, e.g. mongodb://localhost:27017/?replicaSet=rs0) to run it',
  );
}

describe.skipIf(!url)('MongoDB read store', () => {
  // Reads from the primary: with the default secondaryPreferred, a read straight after a write may
  // miss it by the replication lag, and this suite checks the store, not the replication delay.
  readStoreContract('MongoDB', () =>
    createMongoReadStore({
      url: url!,
      dbName: process.env.MONGO_DB ?? 'eventfold_contract',
      readPreference: 'primary',
    }),
  );
});
