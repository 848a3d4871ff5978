/**
 * The read-model store port, in MongoDB's dialect: filters, update operators, sort and limit mean
 * what they mean in MongoDB, so projection code reads like Mongo code while it runs unchanged on
 * the embedded store. Adapters: MongoDB (production) and an embedded store evaluated by mingo.
 * Both pass read-store.contract.ts.
 */

export type Document = { _id: string } & Record<string, unknown>;
/** A MongoDB query filter. */
export type Filter = Record<string, unknown>;
/** A MongoDB update document ($set, $inc, $setOnInsert, $unset, $push, $max …). */
export type Update = Record<string, unknown>;
export type Sort = Record<string, 1 | -1>;

export type WriteOp =
  | { insertOne: { document: Document } }
  | { updateOne: { filter: Filter; update: Update; upsert?: boolean } }
  | { replaceOne: { filter: Filter; replacement: Document; upsert?: boolean } }
  | { deleteOne: { filter: Filter } };

export type BulkWriteResult = {
  /** Operations that matched (or upserted) and wrote. */
  applied: number;
  /**
   * Operations skipped because they would have created a second document with an existing _id.
   * That is how a guarded upsert (`{ _id, revision: { $lt: r } }` with upsert) turns a stale or
   * duplicate event into a no-op: the guard does not match, the upsert collides, the op is skipped.
   *
   * A clash on any other unique index is a duplicate-key error too (MongoDB's E11000 does not tell
   * them apart without parsing its message), so it is counted and skipped the same way. A
   * projection that relies on a secondary unique index must therefore check `duplicates` itself.
   */
  duplicates: number;
};

export interface Collection<T extends Document = Document> {
  findOne(filter: Filter): Promise<T | null>;
  find(filter: Filter, options?: { sort?: Sort; limit?: number }): Promise<T[]>;
  countDocuments(filter?: Filter): Promise<number>;
  /** Applies the operations in order, as one round trip where the adapter allows. */
  bulkWrite(operations: readonly WriteOp[]): Promise<BulkWriteResult>;
  createIndex(keys: Sort, options?: { unique?: boolean }): Promise<void>;
}

export interface ReadStore {
  collection<T extends Document = Document>(name: string): Collection<T>;
  /** Drops the collection if it exists. */
  dropCollection(name: string): Promise<void>;
  /** Renames `from` to `to`, replacing `to` if it exists: how a rebuilt read model is swapped in. */
  renameCollection(from: string, to: string): Promise<void>;
  /** Throws when the store cannot be reached. */
  ping(): Promise<void>;
  /**
   * Throws unless a write is acknowledged the way the store acknowledges every write (MongoDB: by
   * a majority of the replica set, within the write timeout). Reachable is not writable: a primary
   * that lost its majority answers ping.
   */
  checkWrites(): Promise<void>;
  /**
   * The store's clock. Leases compare times taken from it, so instances whose own clocks disagree
   * still agree on when a lease expires.
   */
  now(): Promise<Date>;
  close(): Promise<void>;
}
