import { randomBytes } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import Database from 'better-sqlite3';
import { Query } from 'mingo';
import { compare, resolve } from 'mingo/util';
import { type Catalog, createCatalog, type StoredCollection } from './embedded-collections.js';
import { filterToSql, sortToSql } from './embedded-query.js';
import type {
  BulkWriteResult,
  Collection,
  Document,
  Filter,
  ReadStore,
  Sort,
  Update,
  WriteOp,
} from './read-store.js';
import { applyUpdate, seedFromFilter, upsertDocument } from './upsert-document.js';

/**
 * The read-model store without a server: documents in SQLite (a file under DATA_DIR, or in memory
 * for tests and throwaway stores), with mingo for MongoDB's filter and update semantics. This file
 * adds what a collection needs around them: the unique _id, indexes, MongoDB's upsert rules, and
 * copies on the way in and out (every document is serialized), so no caller reaches stored state.
 *
 * Why SQLite, measured with `npm run bench:read-store` at 1M account transactions on the project's
 * 2-core machine (README, Benchmarks): the store it replaces kept every document in a Map and
 * scanned for every list query (`GET /accounts/:id/transactions?limit=50`: p50 107 ms), and was
 * rebuilt from the whole log at each start (its writes alone: 4.9 s). Here a declared index is a
 * SQLite index, so that page costs the rows it returns (p50 0.21 ms), and reopening the file and
 * reading the last write takes about 1 ms: the projectors resume from their checkpoints, which
 * live in the same file. The design weighed against it, in-memory collections with indexes plus a
 * persisted snapshot, reads as fast but loads the whole snapshot at each start (the Map held 310 MB
 * of heap for those documents) and must rewrite it as it changes. The price is on writes: 27k
 * documents/s against 206k in memory (serialization, and a B-tree per index per document).
 *
 * How a query runs: embedded-query.ts turns what it can of the filter and sort into SQL over the
 * indexed fields' columns, SQLite picks the index, and mingo tests the candidates unless the SQL
 * was exact. So semantics never depend on the index: a condition SQLite cannot serve is still
 * applied, only slower.
 *
 * Writes: one SQLite transaction per bulkWrite. Read models are rebuildable from the log, so
 * commits are not fsynced (synchronous=NORMAL in WAL mode): a power cut may lose the last commits,
 * but in commit order, and a projection writes its documents before its checkpoint, so the
 * checkpoint that survives is never ahead of the documents; the projector replays what is lost.
 */
export type EmbeddedReadStoreOptions = {
  /** The SQLite file. Default ':memory:': a store that lives as long as this value. */
  file?: string;
};

export type EmbeddedReadStore = ReadStore & {
  /** Small values stored with the read models (what they were built from; see read-models-file.ts). */
  meta: { get(key: string): string | undefined; set(key: string, value: string): void };
  /** Documents read from SQLite so far: what a query cost, for tests. */
  readonly rowsRead: number;
  /** SQLite's plan for a find (EXPLAIN QUERY PLAN details), for tests and benchmarks. */
  explain(collection: string, filter: Filter, options?: { sort?: Sort; limit?: number }): string[];
};

/** The store's own format: a file of another format is not read, and the read models are rebuilt. */
export const FORMAT = '1';

export class ReadStoreFormatError extends Error {
  override readonly name = 'ReadStoreFormatError';
}

export const createEmbeddedReadStore = ({
  file = ':memory:',
}: EmbeddedReadStoreOptions = {}): EmbeddedReadStore => {
  const db = new Database(file, { timeout: 5000 });
  let catalog: Catalog;
  try {
    if (file !== ':memory:') {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    const format = hasTable(db, 'meta')
      ? (db.prepare("SELECT value FROM meta WHERE key = 'format'").pluck().get() as string | undefined)
      : undefined;
    if (format !== undefined && format !== FORMAT)
      throw new ReadStoreFormatError(`${file} holds read models of format ${format}, not ${FORMAT}`);
    if (format === undefined && hasTable(db, 'collections'))
      throw new ReadStoreFormatError(`${file} holds collections but no format`);
    catalog = createCatalog(db);
    db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('format', ?)").run(FORMAT);
  } catch (error) {
    db.close();
    throw error;
  }

  const statements = new Map<string, Database.Statement>();
  // Filters of the same shape share their SQL, so this stays small; the cap bounds odd callers.
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      if (statements.size >= 500) statements.clear();
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  let rowsRead = 0;

  type Found = { seq: number; doc: Document; odd: number | null };

  /**
   * The documents that match, in the sort's order when SQLite can give it, else in SQLite's
   * (insertion order, or an index's). Read lazily: a caller that stops early reads no more rows.
   */
  function* matching(
    stored: StoredCollection,
    filter: Filter,
    { orderBy, limit }: { orderBy?: string; limit?: number } = {},
  ): Generator<Found> {
    const sql = filterToSql(filter, stored.columnOf);
    const limited = sql.exact && limit !== undefined && limit > 0;
    const statement = prepared(
      `SELECT seq, doc, odd FROM ${stored.table}${sql.where ? ` WHERE ${sql.where}` : ''}${orderBy ? ` ORDER BY ${orderBy}` : ''}${limited ? ' LIMIT ?' : ''}`,
    );
    // The filter is compiled only once there is a document to test: most _id lookups in a projection miss.
    let query: Query | undefined;
    for (const [seq, blob, odd] of statement
      .raw()
      .iterate(...sql.params, ...(limited ? [limit] : [])) as IterableIterator<
      [number, Buffer, number | null]
    >) {
      rowsRead++;
      const doc = deserialize(blob) as Document;
      if (!sql.exact) {
        query ??= new Query(filter);
        if (!query.test(doc)) continue;
      }
      yield { seq, doc, odd };
    }
  }

  const firstMatch = (stored: StoredCollection, filter: Filter): Found | undefined => {
    for (const found of matching(stored, filter, { limit: 1 })) return found;
    return undefined;
  };

  const findMatching = (
    stored: StoredCollection,
    filter: Filter,
    sort?: Sort,
    limit?: number,
  ): Document[] => {
    const max = limit && limit > 0 ? limit : Number.POSITIVE_INFINITY;
    const orderBy = sortToSql(sort, stored.columnOf);
    const matches: Document[] = [];
    if (orderBy || !sort || Object.keys(sort).length === 0) {
      for (const { doc } of matching(stored, filter, { orderBy, limit })) {
        matches.push(doc);
        if (matches.length >= max) break;
      }
      return matches;
    }
    // A sort no column serves: by mingo's compare, over the candidates.
    const order = sortOrder(sort);
    if (max === Number.POSITIVE_INFINITY) {
      return Array.from(matching(stored, filter), ({ doc }) => doc).sort(order); // stable
    }
    // Top-k: keep the best `limit` in a sorted buffer, so a page costs the candidates and about
    // n·log(limit) comparisons rather than a full sort.
    for (const { doc } of matching(stored, filter)) {
      if (matches.length === max && order(doc, matches[max - 1] as Document) >= 0) continue;
      matches.splice(upperBound(matches, doc, order), 0, doc);
      if (matches.length > max) matches.pop();
    }
    return matches;
  };

  const insert = (stored: StoredCollection, doc: Document): Outcome => {
    const row = stored.rowOf(doc);
    const columns = stored.columns.map((column) => `, ${column}`).join('');
    const { changes } = prepared(
      `INSERT OR IGNORE INTO ${stored.table} (id, doc, odd${columns}) VALUES (?, ?, ?${', ?'.repeat(stored.columns.length)})`,
    ).run(row.id, serialize(doc), row.odd, ...row.values);
    if (changes === 0) return 'duplicate'; // the _id, or a unique index's key, is taken
    stored.oddChanged(null, row.odd);
    return 'applied';
  };

  /** Writes `next` over the row `current` was read from; only the columns whose value changed. */
  const replace = (
    stored: StoredCollection,
    current: Found,
    before: ReturnType<StoredCollection['rowOf']>,
    next: Document,
  ): Outcome => {
    const after = stored.rowOf(next);
    const sets = ['doc = ?', 'odd = ?'];
    const params: unknown[] = [serialize(next), after.odd];
    stored.columns.forEach((column, i) => {
      if (Object.is(before.values[i], after.values[i])) return;
      sets.push(`${column} = ?`);
      params.push(after.values[i]);
    });
    const { changes } = prepared(`UPDATE OR IGNORE ${stored.table} SET ${sets.join(', ')} WHERE seq = ?`).run(
      ...params,
      current.seq,
    );
    if (changes === 0) return 'duplicate'; // a unique index's key is taken
    stored.oddChanged(current.odd, after.odd);
    return 'applied';
  };

  const applyOperation = (stored: StoredCollection, operation: WriteOp): Outcome => {
    if ('insertOne' in operation) return insert(stored, withId(operation.insertOne.document));
    if ('updateOne' in operation) {
      const { filter, update, upsert } = operation.updateOne;
      assertUpdateOperators(update);
      const { $setOnInsert: _onInsertOnly, ...onMatch } = update;
      const current = firstMatch(stored, filter);
      if (current) {
        const before = stored.rowOf(current.doc);
        const id = current.doc._id;
        applyUpdate(current.doc, onMatch); // a copy: it was just deserialized
        if (current.doc._id !== id)
          throw new Error(`updateOne would modify the immutable field '_id' of ${id}`);
        return replace(stored, current, before, current.doc);
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
      const { _id, ...fields } = replacement as Record<string, unknown>;
      if (current) {
        if (_id !== undefined && _id !== current.doc._id) {
          throw new Error(`replaceOne would modify the immutable field '_id' of ${current.doc._id}`);
        }
        return replace(stored, current, stored.rowOf(current.doc), { _id: current.doc._id, ...fields });
      }
      if (!upsert) return 'unmatched';
      // A replacement upsert takes only _id from the filter, and only if the replacement has none.
      const seededId = seedFromFilter(filter)._id;
      return insert(stored, withId({ _id: _id ?? seededId, ...fields }));
    }
    const current = firstMatch(stored, operation.deleteOne.filter);
    if (!current) return 'unmatched';
    prepared(`DELETE FROM ${stored.table} WHERE seq = ?`).run(current.seq);
    stored.oddChanged(current.odd, null);
    return 'applied';
  };

  const collection = <T extends Document>(name: string): Collection<T> => ({
    async findOne(filter) {
      const stored = catalog.existing(name);
      if (!stored) return null;
      return (firstMatch(stored, filter)?.doc as T | undefined) ?? null;
    },

    async find(filter, { sort, limit } = {}) {
      const stored = catalog.existing(name);
      if (!stored) return [];
      return findMatching(stored, filter, sort, limit) as T[];
    },

    async countDocuments(filter = {}) {
      const stored = catalog.existing(name);
      if (!stored) return 0;
      const sql = filterToSql(filter, stored.columnOf);
      if (sql.exact)
        return prepared(`SELECT count(*) FROM ${stored.table}${sql.where ? ` WHERE ${sql.where}` : ''}`)
          .pluck()
          .get(...sql.params) as number;
      let count = 0;
      for (const _ of matching(stored, filter)) count++;
      return count;
    },

    async bulkWrite(operations) {
      const stored = catalog.ensure(name);
      const result: BulkWriteResult = { applied: 0, duplicates: 0 };
      let failure: { error: unknown } | undefined;
      // In order, and an operation that throws stops the rest with the earlier ones kept, as an
      // ordered bulkWrite does in MongoDB: the transaction commits what came before the throw.
      db.transaction(() => {
        try {
          for (const operation of operations) {
            const outcome = applyOperation(stored, operation);
            if (outcome === 'applied') result.applied++;
            else if (outcome === 'duplicate') result.duplicates++;
          }
        } catch (error) {
          failure = { error };
        }
      })();
      if (failure) throw failure.error;
      return result;
    },

    async createIndex(keys, { unique = false } = {}) {
      catalog.createIndex(name, keys, unique);
    },
  });

  return {
    collection,

    async dropCollection(name) {
      catalog.drop(name);
    },

    async renameCollection(from, to) {
      catalog.rename(from, to);
    },

    async ping() {
      db.prepare('SELECT 1').get();
    },

    async checkWrites() {
      db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('write-probe', ?)").run(
        new Date().toISOString(),
      );
    },

    async now() {
      return new Date(); // one process: its own clock is the store's
    },

    async close() {
      if (db.open) db.close();
    },

    meta: {
      get: (key) => db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined,
      set: (key, value) => {
        db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value);
      },
    },

    get rowsRead() {
      return rowsRead;
    },

    explain(name, filter, { sort } = {}) {
      const stored = catalog.existing(name);
      if (!stored) return [];
      const sql = filterToSql(filter, stored.columnOf);
      const orderBy = sortToSql(sort, stored.columnOf);
      return (
        db
          .prepare(
            `EXPLAIN QUERY PLAN SELECT seq, doc, odd FROM ${stored.table}${sql.where ? ` WHERE ${sql.where}` : ''}${orderBy ? ` ORDER BY ${orderBy}` : ''}`,
          )
          .all(...sql.params) as { detail: string }[]
      ).map((row) => row.detail);
    },
  };
};

type Outcome = 'applied' | 'duplicate' | 'unmatched';

const hasTable = (db: Database.Database, name: string) =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;

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
