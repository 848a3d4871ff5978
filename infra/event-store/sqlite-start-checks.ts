import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import {
  type EventsDatabaseOptions,
  openDatabaseFile,
  prepareEventsDatabase,
  storeIdOf,
} from './sqlite-database.js';
import {
  type Marker,
  MarkerUnreadableError,
  markerKeeper,
  readMarker,
  writeMarkerSync,
} from './store-marker.js';

/**
 * What the process that owns the embedded store (the app, holding DATA_DIR's lock) checks before it
 * takes a single request, so that it stops with a clear message instead of starting on a log that
 * is not the one it had, or one it cannot write:
 * - the history marker (store-marker.ts): a log that is missing, empty or shorter than the marker
 *   says, or another store's log, is refused; the fix after a deliberate reset is named;
 * - `PRAGMA quick_check`: the file's structure (b-tree pages, record formats, free list) is sound.
 *   It reads the whole file once: about 0.1 s for 100,000 events on the machine this was written on
 *   (README, "Storage safety"). Damage inside an event's content is what the checksums catch, on read;
 * - a write it undoes at once: the file, its WAL and its folder can be written (a read-only file
 *   opens, and reads, and then fails every append).
 */
export class EventStoreStartError extends Error {
  override readonly name = 'EventStoreStartError';
}

export type OwnedDatabase = {
  db: Database.Database;
  storeId: string;
  keeper: ReturnType<typeof markerKeeper>;
};

const sqliteMessage = (error: unknown) => {
  const { code, message } = error as { code?: string; message?: string };
  return code ? `${message} (${code})` : String(message ?? error);
};

const OVERRIDE = (markerFile: string) =>
  `If that is deliberate (you restored an older backup, or are starting over), delete ${markerFile} and start again.`;

export const openOwnedEventsDatabase = ({
  file,
  markerFile,
  onMarkerError,
  ...options
}: EventsDatabaseOptions & {
  markerFile: string;
  onMarkerError?: (error: unknown) => void;
}): OwnedDatabase => {
  let marker: Marker | undefined;
  try {
    marker = readMarker(markerFile);
  } catch (error) {
    if (error instanceof MarkerUnreadableError)
      throw new EventStoreStartError(error.message, { cause: error });
    throw error;
  }
  const expected = marker ? BigInt(marker.lastPosition) : 0n;
  const history =
    marker && expected > 0n ? `${markerFile} says it held at least ${expected} events` : undefined;

  // Before SQLite opens it: opening a missing or empty file would make a new, empty store of it.
  if (history && !existsSync(file))
    throw new EventStoreStartError(
      `the event log ${file} is missing, but ${history}. Restore the file (from a backup), or check DATA_DIR. ${OVERRIDE(markerFile)}`,
    );
  if (history && statSync(file).size === 0)
    throw new EventStoreStartError(
      `the event log ${file} is empty (0 bytes), but ${history}: it was truncated. Restore it from a backup. ${OVERRIDE(markerFile)}`,
    );

  let db: Database.Database;
  try {
    db = openDatabaseFile(file);
  } catch (error) {
    throw new EventStoreStartError(
      `the event log ${file} cannot be opened: ${sqliteMessage(error)}. Check that it exists and that this process may read and write it and its folder.`,
      { cause: error },
    );
  }
  try {
    quickCheck(db, file);
    try {
      prepareEventsDatabase(db, options);
      probeWrite(db);
    } catch (error) {
      if (error instanceof EventStoreStartError) throw error;
      throw new EventStoreStartError(
        `the event log ${file} cannot be written: ${sqliteMessage(error)}. Check the permissions of the file, its -wal and -shm files and its folder, and the free space.`,
        { cause: error },
      );
    }
    const storeId = storeIdOf(db) as string;
    const head = BigInt((db.prepare('SELECT MAX(position) FROM events').pluck().get() as number | null) ?? 0);
    if (history && marker && marker.storeId !== storeId)
      throw new EventStoreStartError(
        `the event log ${file} is another store (id ${storeId}) than the one this DATA_DIR had (id ${marker.storeId}; ${history}). ${OVERRIDE(markerFile)}`,
      );
    if (head < expected)
      throw new EventStoreStartError(
        `the event log ${file} holds ${head === 0n ? 'no events' : `events up to position ${head} only`}, but ${history}: history was lost. Restore the file from a backup. ${OVERRIDE(markerFile)}`,
      );
    if (!marker || marker.storeId !== storeId || head > expected)
      writeMarkerSync(markerFile, storeId, file, head);
    return {
      db,
      storeId,
      keeper: markerKeeper({
        file: markerFile,
        storeId,
        eventsFile: file,
        written: head,
        onError: onMarkerError,
      }),
    };
  } catch (error) {
    db.close();
    throw error;
  }
};

/** Structural damage (garbage over pages, a torn file) stops start-up, with SQLite's own words. */
const quickCheck = (db: Database.Database, file: string) => {
  let problems: string[];
  try {
    problems = db.prepare('PRAGMA quick_check(10)').pluck().all() as string[];
  } catch (error) {
    throw new EventStoreStartError(
      `the event log ${file} is damaged: ${sqliteMessage(error)}. Restore it from a backup.`,
      {
        cause: error,
      },
    );
  }
  if (problems.length === 1 && problems[0] === 'ok') return;
  const lines = problems
    .join('\n')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('*** '));
  const more = lines.length > 3 ? ` (and ${lines.length - 3} more)` : '';
  throw new EventStoreStartError(
    `the event log ${file} is damaged: SQLite's quick_check reports ${lines.slice(0, 3).join('; ')}${more}. Restore it from a backup; \`npm run events -- verify\` lists what can still be read.`,
  );
};

/** A real write, undone: a read-only file opens and reads without complaint, and fails here. */
const probeWrite = (db: Database.Database) => {
  try {
    db.transaction(() => {
      db.prepare("INSERT OR REPLACE INTO store (key, value) VALUES ('write-probe', ?)").run(
        new Date().toISOString(),
      );
      throw ROLLBACK;
    }).immediate();
  } catch (error) {
    if (error !== ROLLBACK) throw error;
  }
};

const ROLLBACK = Symbol('rollback');

/**
 * For readiness, while running: the file, its WAL and its folder are writable (a remount read-only,
 * a changed permission), and the write lock can be had. Nothing is written.
 */
export const checkWritable = (db: Database.Database, file: string): void => {
  for (const path of [file, `${file}-wal`, dirname(file)])
    if (path === dirname(file) || existsSync(path)) accessSync(path, constants.W_OK);
  const timeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma('busy_timeout = 0');
  try {
    db.exec('BEGIN IMMEDIATE');
    db.exec('ROLLBACK');
  } catch (error) {
    // Another connection is writing: the lock exists and will come free; that is not a failure.
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
  } finally {
    db.pragma(`busy_timeout = ${timeout}`);
  }
};
