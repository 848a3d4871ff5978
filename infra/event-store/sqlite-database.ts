import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { eventChecksum } from './checksum.js';
import { CorruptEventError, type RecordedEvent } from './event-store.js';

/**
 * The embedded store's SQLite file: its schema, how it is opened, and how a row becomes an event
 * (checked against its checksum on the way). The store itself is in sqlite-event-store.ts.
 */

/**
 * How hard SQLite works to keep a commit. In WAL mode:
 * - 'normal' writes each commit to the WAL file before the append is acknowledged and fsyncs only at
 *   checkpoints. The write is in the OS page cache, so it survives the process being killed (kill -9,
 *   a crash, an OOM kill) but not a power cut or a kernel panic.
 * - 'full' also fsyncs the WAL on every commit, so an acknowledged append survives power loss too.
 * The default is 'full': the event log is the source of truth and "no acknowledged write may be
 * lost" holds for the whole machine, as it does for EventStoreDB, which flushes every write. Pick
 * 'normal' where the disk's fsync is too slow and losing the last moments on power loss is acceptable.
 */
export type SqliteSynchronous = 'full' | 'normal';

/**
 * An event's correlation id, as the correlation index holds it; a query must use this very text
 * for SQLite to use the index. A row whose metadata is not JSON (damage) gives NULL instead of
 * failing the statement that writes it or the index's creation.
 */
export const CORRELATION_ID = `CASE WHEN json_valid(metadata) THEN json_extract(metadata, '$.correlationId') END`;

/**
 * The whole schema: the events, and one row naming the store. `position` is the rowid, so `$all`
 * is the table in key order and positions are assigned in commit order (SQLite has one writer at a
 * time, and never reuses a rowid here: the only deletes, of expired streams, keep the last row;
 * sqlite-expire-streams.ts). The unique
 * (stream_id, revision) index serves stream reads and the current-revision check; (type, position)
 * serves subscriptions filtered by event type. `checksum` is eventChecksum() of the row as stored;
 * it may be NULL only because SQLite adds a column to an existing table that way: every row has
 * one (files from before checksums get theirs when first opened, see addChecksums), so a NULL is
 * damage. `store` holds the store's id, which the DATA_DIR marker names (store-marker.ts).
 * events_by_correlation serves `npm run events -- trace` (sqlite-correlation.ts): 0.05 ms instead
 * of a scan of the whole log (150 ms per 300,000 events, cached); it costs about 15 µs per append
 * (32 → 48 µs for a one-event commit with synchronous=normal) and some 50 bytes per event.
 * Exported so a benchmark can time bare inserts into the same table.
 */
export const EVENTS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY,
    stream_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    metadata TEXT NOT NULL,
    checksum TEXT,
    UNIQUE (stream_id, revision)
  );
  CREATE INDEX IF NOT EXISTS events_by_type ON events (type, position);
  CREATE INDEX IF NOT EXISTS events_by_correlation ON events (${CORRELATION_ID});
  CREATE TABLE IF NOT EXISTS store (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

export type EventsDatabaseOptions = {
  /** The database file, e.g. `${DATA_DIR}/events.sqlite`; its directory is created if missing. */
  file: string;
  /** Default 'full'; see SqliteSynchronous. */
  synchronous?: SqliteSynchronous;
  /** Told how many events got their checksum when a file from before checksums was first opened. */
  onChecksumsAdded?: (events: number, ms: number) => void;
};

/** Opens the file as it is, read and write, without touching its content. */
export const openDatabaseFile = (file: string): Database.Database => {
  mkdirSync(dirname(file), { recursive: true });
  // `timeout`: how long a write waits for another process's write lock before failing.
  return new Database(file, { timeout: 5000 });
};

/** The store's pragmas, schema and migrations, on a database just opened. */
export const prepareEventsDatabase = (
  db: Database.Database,
  { synchronous = 'full', onChecksumsAdded }: Omit<EventsDatabaseOptions, 'file'>,
): void => {
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  const existed = hasTable(db, 'events');
  db.exec(EVENTS_SCHEMA);
  if (existed) {
    const started = performance.now();
    const added = addChecksums(db);
    if (added !== undefined) onChecksumsAdded?.(added, Math.round(performance.now() - started));
  }
  if (storeIdOf(db) === undefined)
    db.prepare("INSERT OR IGNORE INTO store (key, value) VALUES ('id', ?)").run(randomUUID());
};

/** Opens (and creates, if needed) an events database with the store's pragmas and schema. */
export const openEventsDatabase = ({ file, ...options }: EventsDatabaseOptions): Database.Database => {
  const db = openDatabaseFile(file);
  try {
    prepareEventsDatabase(db, options);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
};

/**
 * Opens an existing file for reading only, changing nothing (no schema, no migration): for tools
 * that inspect a store, even while the app runs. A file from before checksums has no checksum
 * column; its rows read as unchecked (see Row.checksum).
 */
export const openEventsDatabaseReadOnly = (file: string): Database.Database =>
  new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });

export const hasTable = (db: Database.Database, name: string): boolean =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;

export const hasChecksumColumn = (db: Database.Database): boolean =>
  db.prepare("SELECT 1 FROM pragma_table_info('events') WHERE name = 'checksum'").get() !== undefined;

/** The id the store got when it was created (or first opened by a version that names stores). */
export const storeIdOf = (db: Database.Database): string | undefined =>
  hasTable(db, 'store')
    ? (db.prepare("SELECT value FROM store WHERE key = 'id'").pluck().get() as string | undefined)
    : undefined;

const MIGRATION_PAGE = 1000;

/**
 * A file written before checksums: adds the column and computes every event's checksum from the
 * row as it is, once, in one transaction (all or nothing). Returns how many events got one, or
 * undefined when the file already had the column. What was damaged before this ran is not noticed.
 */
export const addChecksums = (db: Database.Database): number | undefined => {
  if (hasChecksumColumn(db)) return undefined;
  return db
    .transaction(() => {
      db.exec('ALTER TABLE events ADD COLUMN checksum TEXT');
      const page = db.prepare<[number], Row>(
        `SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ${MIGRATION_PAGE}`,
      );
      const set = db.prepare('UPDATE events SET checksum = ? WHERE position = ?');
      let after = 0;
      let count = 0;
      for (let rows = page.all(after); rows.length > 0; rows = page.all(after)) {
        for (const row of rows) set.run(checksumOf(row), row.position);
        count += rows.length;
        after = (rows.at(-1) as Row).position;
      }
      return count;
    })
    .immediate();
};

export type Row = {
  position: number;
  stream_id: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
  /** NULL in a checksum column is damage; `undefined` (no column: a read-only look at an old file) is unchecked. */
  checksum?: string | null;
};

export const COLUMNS = 'position, stream_id, revision, type, data, metadata, checksum';
/** For a read-only look at a file from before checksums. */
export const COLUMNS_WITHOUT_CHECKSUM = 'position, stream_id, revision, type, data, metadata';

export const checksumOf = (row: Omit<Row, 'checksum'>): string =>
  eventChecksum({
    streamId: row.stream_id,
    revision: row.revision,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
  });

const damaged = (row: Row, reason: string) =>
  new CorruptEventError(
    String(row.stream_id),
    Number(row.revision),
    BigInt(row.position),
    reason,
    typeof row.type === 'string' ? row.type : undefined,
  );

const parse = (row: Row, column: 'data' | 'metadata'): unknown => {
  try {
    return JSON.parse(row[column]);
  } catch {
    throw damaged(row, `its ${column} is not JSON`);
  }
};

/**
 * A row as an event, after checking it is what was written: its checksum matches its fields as
 * stored, and they parse. Throws CorruptEventError otherwise.
 */
export const toRecorded = (row: Row): RecordedEvent => {
  if (row.checksum !== undefined) {
    for (const column of ['stream_id', 'type', 'data', 'metadata'] as const)
      if (typeof row[column] !== 'string') throw damaged(row, `its ${column} is not text`);
    if (!Number.isSafeInteger(row.revision)) throw damaged(row, 'its revision is not an integer');
    if (row.checksum === null) throw damaged(row, 'it has no checksum');
    if (row.checksum !== checksumOf(row)) throw damaged(row, 'its checksum does not match its content');
  }
  return {
    streamId: row.stream_id,
    revision: row.revision,
    position: BigInt(row.position),
    type: row.type,
    data: parse(row, 'data'),
    metadata: parse(row, 'metadata') as RecordedEvent['metadata'],
  };
};

export const insertStatement = (db: Database.Database) => {
  const insert = db.prepare(
    'INSERT INTO events (stream_id, revision, type, data, metadata, checksum) VALUES (?, ?, ?, ?, ?, ?)',
  );
  return (streamId: string, revision: number, type: string, data: string, metadata: string) =>
    insert.run(
      streamId,
      revision,
      type,
      data,
      metadata,
      eventChecksum({ streamId, revision, type, data, metadata }),
    ).lastInsertRowid;
};
