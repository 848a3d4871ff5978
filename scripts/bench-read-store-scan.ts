import { randomBytes } from 'node:crypto';
import { Query } from 'mingo';
import { compare, resolve } from 'mingo/util';
import type {
  BulkWriteResult,
  Collection,
  Document,
  Filter,
  ReadStore,
  Sort,
  Update,
  WriteOp,
} from '../infra/read-store/read-store.js';
import { applyUpdate, seedFromFilter, upsertDocument } from '../infra/read-store/upsert-document.js';

/**
 * bench:read-store's reference: the embedded read store as it was before issue 11, unchanged but
 * for its name and imports. Every document in a Map, mingo testing each one, no secondary index:
 * a list query scans the collection. Kept only so the benchmark measures old and new in one run.
 */
export const createScanReadStore = (): ReadStore => {
  const collections = new Map<string, StoredCollection>();

  // Like MongoDB, a collection exists from its first write or index, and reads of one that does
  // not exist see nothing. Handles resolve the name on every call, so they follow drops and renames.
  const existing = (name: string) => collections.get(name);
  const ensure = (name: string) => {
    let stored = collections.get(name);
    if (!stored) {
      stored = { docs: new Map(), uniqueIndexes: [] };
      collections.set(name, stored);
    }
    return stored;
  };

  const collection = <T extends Document>(name: string): Collection<T> => ({
    async findOne(filter) {
      const stored = existing(name);
      if (!stored) return null;
      const doc = firstMatch(stored, filter);
      return doc ? (structuredClone(doc) as T) : null;
    },

    async find(filter, { sort, limit } = {}) {
      const stored = existing(name);
      if (!stored) return [];
      return findMatching(stored, filter, sort, limit).map((doc) => structuredClone(doc) as T);
    },

    async countDocuments(filter = {}) {
      const stored = existing(name);
      if (!stored) return 0;
      if (Object.keys(filter).length === 0) return stored.docs.size;
      let count = 0;
      for (const _ of matching(stored, filter)) count++;
      return count;
    },

    async bulkWrite(operations) {
      const stored = ensure(name);
      const result: BulkWriteResult = { applied: 0, duplicates: 0 };
      // In order, and an operation that throws stops the rest with the earlier ones kept, as an
      // ordered bulkWrite does in MongoDB.
      for (const operation of operations) {
        const outcome = applyOperation(stored, operation);
        if (outcome === 'applied') result.applied++;
        else if (outcome === 'duplicate') result.duplicates++;
      }
      return result;
    },

    async createIndex(keys, { unique = false } = {}) {
      const stored = ensure(name);
      if (!unique) return; // a scan is all this store does; only uniqueness changes behaviour
      const fields = Object.keys(keys);
      const id = fields.join(',');
      if (stored.uniqueIndexes.some((index) => index.id === id)) return;
      const index: UniqueIndex = { id, fields, owners: new Map() };
      for (const doc of stored.docs.values()) {
        const key = indexKey(index, doc);
        if (index.owners.has(key)) {
          throw new Error(`E11000 duplicate key error building unique index on ${name} { ${id} }: ${key}`);
        }
        index.owners.set(key, doc._id);
      }
      stored.uniqueIndexes.push(index);
    },
  });

  return {
    collection,

    async dropCollection(name) {
      collections.delete(name);
    },

    async renameCollection(from, to) {
      const stored = collections.get(from);
      if (!stored) throw new Error(`cannot rename ${from}: the collection does not exist`);
      if (from === to) throw new Error(`cannot rename ${from} to itself`);
      collections.delete(from);
      collections.set(to, stored);
    },

    async ping() {},

    async checkWrites() {},

    async now() {
      return new Date(); // one process: its own clock is the store's
    },

    async close() {},
  };
};

type UniqueIndex = {
  /** The indexed fields joined, to recognise a repeated createIndex. */
  id: string;
  fields: string[];
  /** Index key -> _id of the document holding it. */
  owners: Map<string, string>;
};

type StoredCollection = {
  /** By _id, in insertion order: MongoDB's natural order, near enough for unsorted reads. */
  docs: Map<string, Document>;
  uniqueIndexes: UniqueIndex[];
};

type Outcome = 'applied' | 'duplicate' | 'unmatched';

/**
 * The documents that match, in natural order (for an `_id` list: the list's order). An `_id`
 * equality or `$in` is a map lookup, anything else a scan; the filter is compiled only once there is a document to test, since most _id lookups in a
 * projection miss.
 */
function* matching(stored: StoredCollection, filter: Filter): Generator<Document> {
  const candidates = idCandidates(stored, filter._id) ?? stored.docs.values();
  let query: Query | undefined;
  for (const doc of candidates) {
    if (doc === undefined) continue;
    query ??= new Query(filter);
    if (query.test(doc)) yield doc;
  }
}

/** Documents named by `_id: 'x'` or `_id: { $in: [...] }` (how projections read a batch back), else undefined. */
const idCandidates = (stored: StoredCollection, id: unknown): Iterable<Document | undefined> | undefined => {
  if (typeof id === 'string') return [stored.docs.get(id)];
  if (typeof id !== 'object' || id === null || Object.keys(id).length !== 1) return undefined;
  const ids = (id as { $in?: unknown }).$in;
  if (!Array.isArray(ids) || !ids.every((each) => typeof each === 'string')) return undefined;
  return [...new Set(ids)].map((each) => stored.docs.get(each));
};

const firstMatch = (stored: StoredCollection, filter: Filter): Document | undefined =>
  matching(stored, filter).next().value ?? undefined;

const findMatching = (stored: StoredCollection, filter: Filter, sort?: Sort, limit?: number): Document[] => {
  const max = limit && limit > 0 ? limit : Number.POSITIVE_INFINITY;
  const matches: Document[] = [];
  if (!sort || Object.keys(sort).length === 0) {
    for (const doc of matching(stored, filter)) {
      matches.push(doc);
      if (matches.length >= max) break;
    }
    return matches;
  }
  const order = sortOrder(sort);
  if (max === Number.POSITIVE_INFINITY) {
    return Array.from(matching(stored, filter)).sort(order); // stable: ties keep natural order
  }
  // Top-k: keep the best `limit` in a sorted buffer, so a page of a big collection costs a scan
  // and about n·log(limit) comparisons rather than a full sort.
  for (const doc of matching(stored, filter)) {
    if (matches.length === max && order(doc, matches[max - 1] as Document) >= 0) continue;
    matches.splice(upperBound(matches, doc, order), 0, doc);
    if (matches.length > max) matches.pop();
  }
  return matches;
};

/** MongoDB's sort order across types (mingo's compare); a missing field sorts as null. */
const sortOrder = (sort: Sort) => {
  const keys = Object.entries(sort);
  return (a: Document, b: Document) => {
    for (const [path, direction] of keys) {
      const c = compare(resolve(a, path) ?? null, resolve(b, path) ?? null);
      if (c !== 0) return c * direction;
    }
    return 0;
  };
};

/** The index after the last element not greater than `item`: inserting there keeps ties stable. */
const upperBound = <T>(sorted: T[], item: T, order: (a: T, b: T) => number) => {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (order(item, sorted[mid] as T) < 0) hi = mid;
    else lo = mid + 1;
  }
  return lo;
};

const applyOperation = (stored: StoredCollection, operation: WriteOp): Outcome => {
  if ('insertOne' in operation) {
    return insert(stored, withId(structuredClone(operation.insertOne.document)));
  }
  if ('updateOne' in operation) {
    const { filter, update, upsert } = operation.updateOne;
    assertUpdateOperators(update);
    const { $setOnInsert: _onInsertOnly, ...onMatch } = update;
    const current = firstMatch(stored, filter);
    if (current) {
      const next = structuredClone(current);
      applyUpdate(next, onMatch);
      if (next._id !== current._id) {
        throw new Error(`updateOne would modify the immutable field '_id' of ${current._id}`);
      }
      return replace(stored, current, next);
    }
    if (!upsert) return 'unmatched';
    // MongoDB's upsert: the filter's equality conditions seed the new document, then the update
    // applies, $setOnInsert included.
    return insert(stored, withId(upsertDocument(filter, update)));
  }
  if ('replaceOne' in operation) {
    const { filter, replacement, upsert } = operation.replaceOne;
    if (Object.keys(replacement).some((key) => key.startsWith('$'))) {
      throw new Error('replaceOne takes a document, not update operators');
    }
    const current = firstMatch(stored, filter);
    const { _id, ...fields } = structuredClone(replacement) as Record<string, unknown>;
    if (current) {
      if (_id !== undefined && _id !== current._id) {
        throw new Error(`replaceOne would modify the immutable field '_id' of ${current._id}`);
      }
      return replace(stored, current, { _id: current._id, ...fields });
    }
    if (!upsert) return 'unmatched';
    // A replacement upsert takes only _id from the filter, and only if the replacement has none.
    const seededId = seedFromFilter(filter)._id;
    return insert(stored, withId({ _id: _id ?? seededId, ...fields }));
  }
  const current = firstMatch(stored, operation.deleteOne.filter);
  if (!current) return 'unmatched';
  stored.docs.delete(current._id);
  for (const index of stored.uniqueIndexes) index.owners.delete(indexKey(index, current));
  return 'applied';
};

const insert = (stored: StoredCollection, doc: Document): Outcome => {
  if (stored.docs.has(doc._id) || collidesOnUniqueIndex(stored, doc)) return 'duplicate';
  stored.docs.set(doc._id, doc);
  for (const index of stored.uniqueIndexes) index.owners.set(indexKey(index, doc), doc._id);
  return 'applied';
};

const replace = (stored: StoredCollection, current: Document, next: Document): Outcome => {
  if (collidesOnUniqueIndex(stored, next)) return 'duplicate';
  for (const index of stored.uniqueIndexes) {
    index.owners.delete(indexKey(index, current));
    index.owners.set(indexKey(index, next), next._id);
  }
  stored.docs.set(next._id, next);
  return 'applied';
};

const collidesOnUniqueIndex = (stored: StoredCollection, doc: Document) =>
  stored.uniqueIndexes.some((index) => {
    const owner = index.owners.get(indexKey(index, doc));
    return owner !== undefined && owner !== doc._id;
  });

// As in MongoDB, a missing field is indexed as null, so two documents without it collide.
const indexKey = (index: UniqueIndex, doc: Document) =>
  JSON.stringify(index.fields.map((field) => resolve(doc, field) ?? null));

const assertUpdateOperators = (update: Update) => {
  const keys = Object.keys(update);
  if (keys.length === 0 || keys.some((key) => !key.startsWith('$'))) {
    throw new Error('updateOne takes update operators ($set, $inc, …), not a document');
  }
};

// MongoDB would generate an ObjectId; here a string of the same shape keeps `_id: string` true.
const withId = (doc: Record<string, unknown>): Document => {
  if (doc._id === undefined) return { _id: randomBytes(12).toString('hex'), ...doc };
  return doc as Document;
};
