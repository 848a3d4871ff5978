import {
  type AnyBulkWriteOperation,
  MongoBulkWriteError,
  type BulkWriteResult as MongoBulkWriteResult,
  MongoClient,
  type Filter as MongoFilter,
  type ReadPreferenceMode,
} from 'mongodb';
import type { BulkWriteResult, Collection, Document, ReadStore } from './read-store.js';

export type MongoReadStoreOptions = {
  /** A replica set URL, e.g. mongodb://h1:27017,h2:27017,h3:27017/?replicaSet=rs0 */
  url: string;
  /** Defaults to the database named in the URL, else the driver's default. */
  dbName?: string;
  /**
   * Where reads go. The default, secondaryPreferred, spreads read-model queries over the replicas;
   * such reads may lag the projector's writes by the replication delay, which the read API's
   * x-min-position wait covers. Use 'primary' where a read must see the write just made.
   */
  readPreference?: ReadPreferenceMode;
};

const DUPLICATE_KEY = 11000;

/**
 * The read-model store on MongoDB. Writes wait for a majority of the replica set, so a
 * checkpoint committed after them cannot outlive the documents on a failover.
 */
export const createMongoReadStore = async ({
  url,
  dbName,
  readPreference = 'secondaryPreferred',
}: MongoReadStoreOptions): Promise<ReadStore> => {
  const client = await new MongoClient(url).connect();
  const db = client.db(dbName, { readPreference, writeConcern: { w: 'majority' } });

  const collection = <T extends Document>(name: string): Collection<T> => {
    // The driver's typings want its own document types; the port's are plain JSON-shaped objects.
    const mongo = db.collection<Document>(name);
    return {
      async findOne(filter) {
        return (await mongo.findOne(filter as MongoFilter<Document>)) as T | null;
      },

      async find(filter, { sort, limit } = {}) {
        let cursor = mongo.find(filter as MongoFilter<Document>);
        if (sort) cursor = cursor.sort(sort);
        if (limit && limit > 0) cursor = cursor.limit(limit);
        return (await cursor.toArray()) as T[];
      },

      async countDocuments(filter = {}) {
        return mongo.countDocuments(filter as MongoFilter<Document>);
      },

      async bulkWrite(operations) {
        const result: BulkWriteResult = { applied: 0, duplicates: 0 };
        // Ordered, so each operation sees the ones before it. An ordered bulkWrite stops at its
        // first write error; a duplicate key is the expected end of a guarded upsert, so it is
        // counted and the operations after it are sent again.
        let rest = operations;
        while (rest.length > 0) {
          try {
            const done = await mongo.bulkWrite(rest as AnyBulkWriteOperation<Document>[], { ordered: true });
            result.applied += appliedIn(done);
            return result;
          } catch (error) {
            const duplicateAt = duplicateKeyIndex(error);
            if (duplicateAt === undefined) throw error;
            result.applied += appliedIn((error as MongoBulkWriteError).result);
            result.duplicates++;
            rest = rest.slice(duplicateAt + 1);
          }
        }
        return result;
      },

      async createIndex(keys, { unique = false } = {}) {
        await mongo.createIndex(keys, { unique });
      },
    };
  };

  return {
    collection,

    async dropCollection(name) {
      await db.dropCollection(name); // the driver already treats a missing collection as dropped
    },

    async renameCollection(from, to) {
      await db.renameCollection(from, to, { dropTarget: true });
    },

    async ping() {
      await db.command({ ping: 1 });
    },

    async close() {
      await client.close();
    },
  };
};

const appliedIn = (result: MongoBulkWriteResult) =>
  result.insertedCount + result.matchedCount + result.upsertedCount + result.deletedCount;

/**
 * The index of the operation that failed with E11000 alone, or undefined for any other failure.
 * A write-concern error means even the writes before it are not known to be majority-durable, so
 * it is never treated as a duplicate.
 */
const duplicateKeyIndex = (error: unknown): number | undefined => {
  if (!(error instanceof MongoBulkWriteError) || error.result.getWriteConcernError()) return undefined;
  const writeErrors = [error.writeErrors].flat();
  const [first] = writeErrors;
  if (writeErrors.length !== 1 || first?.code !== DUPLICATE_KEY) return undefined;
  return first.index;
};
