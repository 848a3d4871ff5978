import type Database from 'better-sqlite3';
import { AppendSignal, pagedSubscription } from './append-signal.js';
import {
  CorruptEventError,
  damagedEventLog,
  type EventFilter,
  type EventStore,
  type ReadAllOptions,
  type RecordedEvent,
  type SubscribeOptions,
} from './event-store.js';
import {
  COLUMNS,
  COLUMNS_WITHOUT_CHECKSUM,
  hasChecksumColumn,
  openEventsDatabase,
  openEventsDatabaseReadOnly,
  type Row,
  type SqliteSynchronous,
  toRecorded,
} from './sqlite-database.js';
import { sqliteExpireStreams } from './sqlite-expire-streams.js';
import { checkWritable, type OwnedDatabase, openOwnedEventsDatabase } from './sqlite-start-checks.js';
import { startSqliteWriter } from './sqlite-writer.js';

export { EVENTS_SCHEMA, openEventsDatabase, type SqliteSynchronous } from './sqlite-database.js';

/** Where the store tells what it did at start-up (checksums added to an old file) and what went wrong on the side. */
export type StoreLog = {
  info(detail: Record<string, unknown>, message: string): void;
  warn(detail: Record<string, unknown>, message: string): void;
};

export type SqliteEventStoreOptions = {
  /** The database file, e.g. `${DATA_DIR}/events.sqlite`; its directory is created if missing. */
  file: string;
  /** Default 'full'; see SqliteSynchronous. */
  synchronous?: SqliteSynchronous;
  /** How often a caught-up subscription looks for appends by other processes (a script, a second app). */
  pollMs?: number;
  /**
   * Set by the one process that owns the store (the app's writer, holding DATA_DIR's lock): the
   * file is checked before it is used, and the history marker at this path is kept up with the log
   * (sqlite-start-checks.ts, store-marker.ts). A refusal throws EventStoreStartError.
   */
  markerFile?: string;
  /** Opens an existing file read-only, changing nothing: for tools that inspect a store. Appends fail. */
  readonly?: boolean;
  log?: StoreLog;
  /** Pragmas for the connection that writes, after the store's own (tests: max_page_count meets a full disk). */
  writerPragmas?: readonly string[];
};

const PAGE = 500;

// One type: the (type, position) index yields matches in position order. Several: walking that
// index would sort every later match for each page, so scan in position order instead ('+type').
const typeClause = (count: number) =>
  count === 0 ? '0' : count === 1 ? 'type = ?' : `+type IN (${Array(count).fill('?').join(', ')})`;

// instr(...) = 1 is "starts with", case-sensitively, with no LIKE wildcards to escape.
const prefixClause = (count: number) =>
  count === 0 ? '0' : `(${Array(count).fill('instr(stream_id, ?) = 1').join(' OR ')})`;

const open = (options: SqliteEventStoreOptions): { db: Database.Database; owned?: OwnedDatabase } => {
  const onChecksumsAdded = (events: number, ms: number) =>
    options.log?.info(
      { file: options.file, events, ms },
      'event log from before checksums: computed the checksum of every event, once',
    );
  if (options.readonly) return { db: openEventsDatabaseReadOnly(options.file) };
  if (options.markerFile === undefined)
    return {
      db: openEventsDatabase({ file: options.file, synchronous: options.synchronous, onChecksumsAdded }),
    };
  const owned = openOwnedEventsDatabase({
    file: options.file,
    synchronous: options.synchronous,
    markerFile: options.markerFile,
    onChecksumsAdded,
    onMarkerError: (error) =>
      options.log?.warn(
        { err: error, file: options.markerFile },
        'the history marker could not be written; retrying with the next append',
      ),
  });
  return { db: owned.db, owned };
};

/** The embedded event store: durable in one SQLite file, the default when EVENTSTORE_URL is unset. */
export const createSqliteEventStore = (options: SqliteEventStoreOptions): EventStore => {
  const { db, owned } = open(options);
  const appended = new AppendSignal();
  const closing = new AbortController();
  const damaged = damagedEventLog();
  // A read-only look at a file from before checksums: its rows are read unchecked.
  const columns = options.readonly && !hasChecksumColumn(db) ? COLUMNS_WITHOUT_CHECKSUM : COLUMNS;

  const streamFrom = db.prepare<[string, number], Row>(
    `SELECT ${columns} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision`,
  );
  const head = db.prepare('SELECT MAX(position) FROM events').pluck();
  const expireStreams = options.readonly ? undefined : sqliteExpireStreams(db);

  /** Every row checked against its checksum; the first damaged one throws, and is remembered. */
  const recorded = (row: Row): RecordedEvent => {
    try {
      return toRecorded(row);
    } catch (error) {
      throw error instanceof CorruptEventError ? damaged.record(error) : error;
    }
  };

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
        `SELECT ${columns} FROM events WHERE ${where.join(' AND ')} ORDER BY position LIMIT ?`,
      );
      allStatements.set(key, statement);
    }
    return statement.all(after ?? 0, ...(types ?? []), ...(prefixes ?? []), limit);
  };

  // Appends are committed by a thread of its own (sqlite-writer.ts): the commit and its fsync do not
  // block this event loop, and what arrives during one commit goes into the next (group commit).
  // The marker moves on before any append of the transaction is answered. Subscribers (the
  // projectors) are woken in the next turn of the event loop, once the answers' continuations have
  // run: the work a commit gives them does not hold back its replies, and the commits of one turn
  // wake them once.
  let waking = false;
  const wakeSubscribers = () => {
    waking = false;
    appended.notify();
  };
  const writer = options.readonly
    ? undefined
    : startSqliteWriter({
        file: options.file,
        synchronous: options.synchronous ?? 'full',
        pragmas: options.writerPragmas,
        onCommitted: (last) => {
          if (last !== undefined) owned?.keeper.advanced(last);
          if (!waking) setImmediate(wakeSubscribers);
          waking = true;
        },
      });

  // A page and the head it was read against, in one read transaction: with another process writing,
  // two separate statements could see different snapshots and report as scanned an event never read.
  // A damaged event ends the page: the events before it are delivered, then its error is thrown.
  const readPage = db.transaction((after: bigint | undefined, filter: EventFilter | undefined) => {
    const rows = selectAll(after, PAGE, filter);
    const events: RecordedEvent[] = [];
    for (const row of rows) {
      try {
        events.push(recorded(row));
      } catch (error) {
        return { events, error };
      }
    }
    if (events.length === PAGE) return { events };
    const last = head.get() as number | null;
    return last === null ? { events } : { events, scannedTo: BigInt(last) };
  });

  return {
    async append(streamId, events, { expectedRevision }) {
      if (events.length === 0) throw new Error('append needs at least one event');
      if (!writer) throw new Error(`${options.file} is open read-only`);
      return writer.append(streamId, events, expectedRevision);
    },

    async readStream(streamId, { fromRevision = 0 } = {}) {
      return streamFrom.all(streamId, fromRevision).map(recorded);
    },

    async readAll({ after, maxCount, filter }: ReadAllOptions = {}) {
      if (maxCount !== undefined && maxCount < 1) return [];
      return selectAll(after, maxCount ?? -1, filter).map(recorded);
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

    async checkWrites() {
      if (options.readonly) throw new Error(`${options.file} is open read-only`);
      checkWritable(db, options.file);
      if (writer?.failure)
        throw new Error(`the writer of ${options.file} stopped: ${writer.failure.message} (see the log)`);
      if (owned?.keeper.failing)
        throw new Error(`the history marker ${options.markerFile} cannot be written (see the log)`);
    },

    damagedEvents: damaged.list,

    async expireStreams(prefix, olderThan) {
      if (!expireStreams) throw new Error(`${options.file} is open read-only`);
      return expireStreams(prefix, olderThan);
    },

    async close() {
      try {
        await writer?.close();
      } finally {
        closing.abort();
      }
      try {
        if (owned) await owned.keeper.close();
      } finally {
        db.close();
      }
    },
  };
};
