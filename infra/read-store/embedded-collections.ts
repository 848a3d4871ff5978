import { deserialize } from 'node:v8';
import type Database from 'better-sqlite3';
import { fieldKey, idKey, ODD, uniqueKey } from './embedded-keys.js';
import type { Document, Sort } from './read-store.js';

/**
 * The embedded store's SQLite layout. `collections` maps each collection name to a table of its
 * own, `c_<id>`, so a rename is one row changed and a drop is one DROP TABLE. A collection's table:
 *   seq   rowid: insertion order, the natural order of unsorted reads
 *   id    the document's `_id` (idKey), UNIQUE
 *   doc   the document, v8-serialized (what structuredClone keeps: dates, NaN, nested undefined)
 *   odd   NULL, or a bit per key column whose field this document holds as no plain key
 *   k<n>  one per field a declared index names: its plain key (embedded-keys.ts)
 *   u<n>  one per unique index: its key as text (MongoDB's unique rules, which SQLite's UNIQUE
 *         on NULLs does not follow)
 * A declared index becomes a SQLite index on its k columns (`_id` is `id`) in its directions.
 */
export const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS collections (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, spec TEXT NOT NULL);
`;

type KeyColumn = { field: string; column: string; bit: number };
type IndexSpec = { name: string; keys: [string, 1 | -1][]; unique: boolean; column?: string };
type Spec = { keys: KeyColumn[]; indexes: IndexSpec[]; next: number };

/** Bit 0 is `id`'s; key columns get bits 1..30, and a column beyond that is never trusted. */
const ID_BIT = 1;
const MAX_BITS = 31;
const UNTRACKED_BIT = 1 << 30;

export type Row = { seq: number; doc: Document };

export type StoredCollection = {
  readonly name: string;
  readonly table: string;
  /** The row a document becomes: its id key, odd bits and column values, in `columns` order. */
  rowOf(doc: Document): { id: string | number; odd: number | null; values: unknown[] };
  /** Column names after `id, doc, odd`, in the order rowOf gives their values. */
  readonly columns: readonly string[];
  /** The trusted column of a field (`_id` → `id`), or undefined. */
  columnOf(field: string): string | undefined;
  /** Told of each row written: its odd bits before (null: none, or a new row) and after (null: none, or deleted). */
  oddChanged(before: number | null, after: number | null): void;
};

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

export const createCatalog = (db: Database.Database) => {
  db.exec(SCHEMA);
  const byName = new Map<string, StoredCollection>();

  const load = (name: string): StoredCollection | undefined => {
    const found = byName.get(name);
    if (found) return found;
    const row = db.prepare('SELECT id, spec FROM collections WHERE name = ?').get(name) as
      | { id: number; spec: string }
      | undefined;
    if (!row) return undefined;
    const stored = storedCollection(db, name, `c_${row.id}`, JSON.parse(row.spec) as Spec);
    byName.set(name, stored);
    return stored;
  };

  const ensure = (name: string): StoredCollection => {
    const found = load(name);
    if (found) return found;
    db.transaction(() => {
      const { lastInsertRowid } = db
        .prepare('INSERT INTO collections (name, spec) VALUES (?, ?)')
        .run(name, JSON.stringify({ keys: [], indexes: [], next: 0 } satisfies Spec));
      const table = `c_${lastInsertRowid}`;
      db.exec(`CREATE TABLE ${table} (seq INTEGER PRIMARY KEY, id ANY NOT NULL UNIQUE, doc BLOB NOT NULL, odd INTEGER) STRICT;
        CREATE INDEX ${table}_odd ON ${table} (odd) WHERE odd IS NOT NULL;`);
    })();
    return load(name) as StoredCollection;
  };

  const specOf = (name: string) =>
    JSON.parse(
      (db.prepare('SELECT spec FROM collections WHERE name = ?').pluck().get(name) as string) ?? 'null',
    ) as Spec;

  return {
    /** The collection, or undefined when it does not exist (reads see nothing, as in MongoDB). */
    existing: load,
    /** The collection, created on its first write or index. */
    ensure,

    /**
     * Adds a declared index: its key columns (filled from the documents already there), then the
     * SQLite index. One transaction: a unique index the documents already break leaves nothing.
     */
    createIndex(name: string, keys: Sort, unique: boolean) {
      const { table } = ensure(name);
      const spec = specOf(name);
      const entries = Object.entries(keys) as [string, 1 | -1][];
      const indexName = `${table}_${entries.map(([field, direction]) => `${field}_${direction}`).join('_')}${unique ? '_u' : ''}`;
      if (spec.indexes.some((index) => index.name === indexName)) return;
      try {
        db.transaction(() => {
          const added: KeyColumn[] = [];
          for (const [field] of entries) {
            if (field === '_id' || spec.keys.some((key) => key.field === field)) continue;
            const n = spec.next++;
            const key = { field, column: `k${n}`, bit: n + 1 < MAX_BITS - 1 ? 1 << (n + 1) : 0 };
            spec.keys.push(key);
            added.push(key);
            db.exec(`ALTER TABLE ${table} ADD COLUMN ${key.column} ANY`);
          }
          const index: IndexSpec = { name: indexName, keys: entries, unique };
          if (unique) {
            index.column = `u${spec.next++}`;
            db.exec(`ALTER TABLE ${table} ADD COLUMN ${index.column} TEXT`);
          }
          spec.indexes.push(index);
          backfill(db, table, [
            ...added.map((key) => ({ column: key.column, key: keyed1(key) })),
            ...(index.column ? [{ column: index.column, key: uniqueKeyed(index) }] : []),
          ]);
          const on = unique
            ? (index.column as string)
            : entries
                .map(([field, direction]) => {
                  const column =
                    field === '_id' ? 'id' : spec.keys.find((key) => key.field === field)?.column;
                  return `${column} ${direction === -1 ? 'DESC' : 'ASC'}`;
                })
                .join(', ');
          db.exec(`CREATE ${unique ? 'UNIQUE ' : ''}INDEX ${quote(indexName)} ON ${table} (${on})`);
          db.prepare('UPDATE collections SET spec = ? WHERE name = ?').run(JSON.stringify(spec), name);
        })();
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE')
          throw new Error(
            `E11000 duplicate key error building unique index on ${name} { ${entries.map(([f]) => f).join(', ')} }`,
            { cause: error },
          );
        throw error;
      } finally {
        byName.delete(name); // its columns changed, or the transaction rolled back: read it again
      }
    },

    drop(name: string) {
      const stored = load(name);
      byName.delete(name);
      if (!stored) return;
      db.transaction(() => {
        db.exec(`DROP TABLE ${stored.table}`);
        db.prepare('DELETE FROM collections WHERE name = ?').run(name);
      })();
    },

    rename(from: string, to: string) {
      if (!load(from)) throw new Error(`cannot rename ${from}: the collection does not exist`);
      if (from === to) throw new Error(`cannot rename ${from} to itself`);
      db.transaction(() => {
        const target = load(to);
        if (target) db.exec(`DROP TABLE ${target.table}`);
        db.prepare('DELETE FROM collections WHERE name = ?').run(to);
        db.prepare('UPDATE collections SET name = ? WHERE name = ?').run(to, from);
      })();
      byName.delete(from);
      byName.delete(to);
    },

    names: () => db.prepare('SELECT name FROM collections').pluck().all() as string[],
  };
};

export type Catalog = ReturnType<typeof createCatalog>;

const storedCollection = (
  db: Database.Database,
  name: string,
  table: string,
  spec: Spec,
): StoredCollection => {
  const uniques = spec.indexes.filter((index) => index.unique);
  const keyed = [
    ...spec.keys.map((key) => ({ column: key.column, key: keyed1(key) })),
    ...uniques.map((index) => ({ column: index.column as string, key: uniqueKeyed(index) })),
  ];
  const byField = new Map(spec.keys.map((key) => [key.field, key]));
  // What is known of the odd bits of all rows: read once, widened by writes, re-read after a row
  // that had some changes (it may have been the last one).
  let oddBits: number | undefined;
  const oddNow = () => {
    oddBits ??= (
      db.prepare(`SELECT DISTINCT odd FROM ${table} WHERE odd IS NOT NULL`).pluck().all() as number[]
    ).reduce((all, bits) => all | bits, 0);
    return oddBits;
  };
  return {
    name,
    table,
    columns: keyed.map(({ column }) => column),
    rowOf(doc) {
      const id = idKey(doc._id);
      // An _id that is not a string or a number is stored encoded: `id` no longer sorts as MongoDB would.
      let odd = typeof doc._id === 'string' || typeof id === 'number' ? 0 : ID_BIT;
      const values: unknown[] = [];
      for (const { key } of keyed) {
        const [value, bit] = key(doc);
        odd |= bit;
        values.push(value);
      }
      return { id, odd: odd === 0 ? null : odd, values };
    },
    columnOf(field) {
      if (field === '_id') return oddNow() & ID_BIT ? undefined : 'id';
      const key = byField.get(field);
      if (!key || key.bit === 0) return undefined;
      return oddNow() & key.bit ? undefined : key.column;
    },
    oddChanged(before, after) {
      if (before !== null) oddBits = undefined;
      else if (after !== null && oddBits !== undefined) oddBits |= after;
    },
  };
};

/** A key column's value for a document, and the odd bit it sets (0: none). */
type Keyed = (doc: Document) => [unknown, number];

// A column past the tracked bits still marks its row odd, so the row is never taken for plain.
const keyed1 =
  (key: KeyColumn): Keyed =>
  (doc) => {
    const value = fieldKey(doc, key.field);
    return value === ODD ? [null, key.bit || UNTRACKED_BIT] : [value, 0];
  };

const uniqueKeyed = (index: IndexSpec): Keyed => {
  const fields = index.keys.map(([field]) => field);
  return (doc) => [uniqueKey(doc, fields), 0];
};

/** Fills the given columns of the rows already in the table. */
const backfill = (db: Database.Database, table: string, columns: { column: string; key: Keyed }[]) => {
  const rows = db.prepare(`SELECT seq, doc, odd FROM ${table}`).raw().all() as [
    number,
    Buffer,
    number | null,
  ][];
  if (rows.length === 0 || columns.length === 0) return;
  const update = db.prepare(
    `UPDATE ${table} SET odd = ?, ${columns.map(({ column }) => `${column} = ?`).join(', ')} WHERE seq = ?`,
  );
  for (const [seq, blob, odd] of rows) {
    const doc = deserialize(blob) as Document;
    let bits = odd ?? 0;
    const values = columns.map(({ key }) => {
      const [value, bit] = key(doc);
      bits |= bit;
      return value;
    });
    update.run(bits === 0 ? null : bits, ...values, seq);
  }
};
