import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { createEmbeddedReadStore } from '../../../infra/read-store/embedded-read-store.js';
import { createMongoReadStore } from '../../../infra/read-store/mongo-read-store.js';
import type { ReadStore } from '../../../infra/read-store/read-store.js';
import { mongoForSuite } from '../../../infra/read-store/testing/ferretdb-server.js';

/** A new, empty read store of the kind the suite runs on. */
export type FreshReadStore = () => Promise<ReadStore>;
export type ReadStoreKind = 'embedded' | 'mongo';

/**
 * Runs `suite` twice: on the embedded read store, and on the MongoDB adapter against MONGO_URL or
 * else a FerretDB started for the file (skipped, saying why, when there is neither). On MongoDB
 * every fresh store is a database of its own, read from the primary as projectors read; the
 * stores a test opened are closed after it.
 */
export const describeOnEachReadStore = (
  title: string,
  suite: (fresh: FreshReadStore, kind: ReadStoreKind) => void,
): void => {
  describe(`${title} (embedded read store)`, () => suite(async () => createEmbeddedReadStore(), 'embedded'));

  const mongo = mongoForSuite(`${title} on MongoDB`);
  describe.skipIf(!mongo)(`${title} (MongoDB read store, ${mongo?.source ?? 'none'})`, () => {
    const opened: ReadStore[] = [];
    beforeAll(() => mongo!.start(), 60_000);
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });
    afterAll(() => mongo?.stop());
    suite(async () => {
      const store = await createMongoReadStore({
        url: mongo!.url(),
        dbName: mongo!.dbName(title),
        readPreference: 'primary',
      });
      opened.push(store);
      return store;
    }, 'mongo');
  });
};
