import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { AppendSignal, pagedSubscription } from './append-signal.js';
import {
  type AppendResult,
  checkExpectedRevision,
  type EventData,
  type EventFilter,
  type EventStore,
  type ExpectedRevision,
  type ReadAllOptions,
  type RecordedEvent,
  type SubscribeOptions,
} from './event-store.js';

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

export type SqliteEventStoreOptions = {
  /** The database file, e.g. `${DATA_DIR}/events.sqlite`; its directory is created if missing. */
  file: string;
  /** Default 'full'; see SqliteSynchronous. */
  synchronous?: SqliteSynchronous;
  /** How often a caught-up subscription looks for appends by other processes (a script, a second app). */
  pollMs?: number;
};

/**
 * The whole schema: one table, `position` is the rowid, so `$all` is the table in key order and
 * positions are assigned in commit order (SQLite has one writer at a time, and never reuses a rowid
 * here because events are never deleted). The unique (stream_id, revision) index serves stream reads
 * and the current-revision check; (type, position) serves subscriptions filtered by event type.
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
    UNIQUE (stream_id, revision)
  );
  CREATE INDEX IF NOT EXISTS events_by_type ON events (type, position);
`;

/** Opens (and creates, if needed) an events database with the store's pragmas and schema. */
export const openEventsDatabase = ({
  file,
  synchronous = 'full',
}: Pick<SqliteEventStoreOptions, 'file' | 'synchronous'>): Database.Database => {
  mkdirSync(dirname(file), { recursive: true });
  // `timeout`: how long a write waits for another process's write lock before failing.
  const db = new Database(file, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.exec(EVENTS_SCHEMA);
  return db;
};

type Row = {
  position: number;
  stream_id: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
};

const COLUMNS = 'position, stream_id, revision, type, data, metadata';
const PAGE = 500;

// One type: the (type, position) index yields matches in position order. Several: walking that
// index would sort every later match for each page, so scan in position order instead ('+type').
const typeClause = (count: number) =>
  count === 0 ? '0' : count === 1 ? 'type = ?' : `+type IN (${Array(count).fill('?').join(', ')})`;

// instr(...) = 1 is "starts with", case-sensitively, with no LIKE wildcards to escape.
const prefixClause = (count: number) =>
  count === 0 ? '0' : `(${Array(count).fill('instr(stream_id, ?) = 1').join(' OR ')})`;

const toRecorded = (row: Row): RecordedEvent => ({
  streamId: row.stream_id,
  revision: row.revision,
  position: BigInt(row.position),
  type: row.type,
  data: JSON.parse(row.data),
  metadata: JSON.parse(row.metadata),
});

/** The embedded event store: durable in one SQLite file, the default when EVENTSTORE_URL is unset. */
export const createSqliteEventStore = (options: SqliteEventStoreOptions): EventStore => {
  const db = openEventsDatabase(options);
  const appended = new AppendSignal();
  const closing = new AbortController();

  const lastRevision = db.prepare('SELECT MAX(revision) FROM events WHERE stream_id = ?').pluck();
  const insert = db.prepare(
    'INSERT INTO events (stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?)',
  );
  const streamFrom = db.prepare<[string, number], Row>(
    `SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision`,
  );
  const head = db.prepare('SELECT MAX(position) FROM events').pluck();

  // One prepared statement per filter shape (how many types, how many prefixes), made on first use.
  const allStatements = new Map<string, Database.Statement<unknown[], Row>>();
  const selectAll = (after: bigint | undefined, limit: number, filter: EventFilter | undefined): Row[] => {
    const types = filter?.eventTypes;
    const prefixes = filter?.streamPrefixes;
    const key = `${types?.length}:${prefixes?.length}`;
    let statement = allStatements.get(key);
    if (!statement) {
      const where = ['position > ?'];
      if (types) where.push(typeClause(types.length));
      if (prefixes) where.push(prefixClause(prefixes.length));
      statement = db.prepare<unknown[], Row>(
        `SELECT ${COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY position LIMIT ?`,
      );
      allStatements.set(key, statement);
    }
    return statement.all(after ?? 0, ...(types ?? []), ...(prefixes ?? []), limit);
  };

  const appendOne = db.transaction(
    (streamId: string, events: readonly EventData[], expected: ExpectedRevision): AppendResult => {
      const current = lastRevision.get(streamId) as number | null;
      checkExpectedRevision(streamId, expected, current ?? undefined);
      let revision = current ?? -1;
      let position: number | bigint = 0;
      for (const { type, data, metadata } of events) {
        revision += 1;
        const json = JSON.stringify(data) ?? 'null';
        position = insert.run(streamId, revision, type, json, JSON.stringify(metadata)).lastInsertRowid;
      }
      return { nextRevision: revision, position: BigInt(position) };
    },
  );

  // Group commit: appends that arrive in the same turn of the event loop share one transaction, so
  // one fsync acknowledges them all. Each runs in its own savepoint (a transaction function called
  // inside another), so a failed revision check undoes only that append. IMMEDIATE takes the write
  // lock before any revision is read, so a writer in another process cannot slip in between.
  type Pending = {
    streamId: string;
    events: readonly EventData[];
    expected: ExpectedRevision;
    resolve: (result: AppendResult) => void;
    reject: (error: unknown) => void;
  };
  let queue: Pending[] = [];
  // Settles each append's promise only after the whole batch has committed.
  const commitAll = db.transaction((batch: Pending[]) =>
    batch.map((pending) => {
      try {
        const result = appendOne(pending.streamId, pending.events, pending.expected);
        return () => pending.resolve(result);
      } catch (error) {
        // Some errors (a full disk, I/O) make SQLite roll back the whole transaction, not just the
        // savepoint: nothing before this append stands, and what follows would commit on its own.
        if (!db.inTransaction) throw error;
        return () => pending.reject(error);
      }
    }),
  );
  const flush = () => {
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    let settle: Array<() => void>;
    try {
      settle = commitAll.immediate(batch);
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    appended.notify();
    for (const settleOne of settle) settleOne();
  };

  // A page and the head it was read against, in one read transaction: with another process writing,
  // two separate statements could see different snapshots and report as scanned an event never read.
  const readPage = db.transaction((after: bigint | undefined, filter: EventFilter | undefined) => {
    const events = selectAll(after, PAGE, filter).map(toRecorded);
    if (events.length === PAGE) return { events };
    const last = head.get() as number | null;
    return last === null ? { events } : { events, scannedTo: BigInt(last) };
  });

  return {
    async append(streamId, events, { expectedRevision }) {
      if (events.length === 0) throw new Error('append needs at least one event');
      return new Promise<AppendResult>((resolve, reject) => {
        if (queue.push({ streamId, events, expected: expectedRevision, resolve, reject }) === 1)
          setImmediate(flush);
      });
    },

    async readStream(streamId, { fromRevision = 0 } = {}) {
      return streamFrom.all(streamId, fromRevision).map(toRecorded);
    },

    async readAll({ after, maxCount, filter }: ReadAllOptions = {}) {
      if (maxCount !== undefined && maxCount < 1) return [];
      return selectAll(after, maxCount ?? -1, filter).map(toRecorded);
    },

    subscribeToAll({ after, filter, signal, onCheckpoint }: SubscribeOptions = {}) {
      return pagedSubscription((from) => readPage(from, filter), appended, {
        after,
        onCheckpoint,
        // Closing the store ends its subscriptions instead of leaving them to read a closed database.
        signal: signal ? AbortSignal.any([signal, closing.signal]) : closing.signal,
        pollMs: options.pollMs ?? 250,
      });
    },

    async headPosition() {
      const last = head.get() as number | null;
      return last === null ? undefined : BigInt(last);
    },

    async close() {
      flush();
      closing.abort();
      db.close();
    },
  };
};
