import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * One writer per DATA_DIR: the process that owns the embedded event store holds an OS-level lock on
 * `DATA_DIR/lock.sqlite` for as long as it runs, and a second process that tries to take it is
 * refused at start-up instead of writing the same log (two writers each deciding on what they read
 * lose money between them: a saga's refund decided in one process, its withdrawal in the other).
 *
 * How: SQLite's own locking. The lock database is opened with `locking_mode = EXCLUSIVE` and
 * written once, so the connection keeps its exclusive lock until it is closed. On Unix that is a
 * POSIX advisory lock (fcntl) on the file, on Windows a LockFileEx lock; either way the operating
 * system drops it when the process ends, however it ends: exit, crash, `kill -9`, an OOM kill. So
 * nothing goes stale and there is nothing to clean up, and it needs no dependency beyond the SQLite
 * driver the store already uses. The alternative weighed, `proper-lockfile`, is a directory made
 * with mkdir and kept fresh by touching its mtime: a process that dies leaves it behind until it is
 * judged stale (10 s by default), and a process that stalls longer than that (a long GC pause, a
 * stopped container) loses it to another one while it still believes it holds it. A lock the
 * kernel holds on behalf of a live process has neither problem.
 *
 * Limits: advisory locks are only as good as the file system's. They hold on local disks and on
 * the volumes containers mount from them; on a network file system (NFS, SMB, some cloud volumes)
 * they may not be enforced between machines, so two hosts must not share a DATA_DIR there.
 * A POSIX lock is also dropped when its process closes any descriptor of the file, so nothing else
 * in the process may open `lock.sqlite`; and the file is never deleted, not even on release: a
 * process that opened the old file while another unlinked it would lock a file nobody else sees.
 */
export const LOCK_FILE = 'lock.sqlite';
/** Who holds the lock, for the message a refused process prints; a plain file, readable while locked. */
export const HOLDER_FILE = 'lock.holder.json';

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';

  constructor(
    readonly dataDir: string,
    readonly holder: string | undefined,
  ) {
    super(
      `DATA_DIR ${dataDir} is in use by another eventfold process${holder ? ` (${holder})` : ''}: ` +
        'only one process may write an embedded event store. Stop that process first, or give this one ' +
        'its own DATA_DIR. (The lock is held by the operating system for a running process only: once ' +
        'that process has ended, however it ended, starting again works.)',
    );
  }
}

export type DataDirLock = {
  readonly dataDir: string;
  /** Lets another process take the directory. Called once the store is closed. */
  release(): void;
};

/** Takes DATA_DIR for this process, or throws DataDirLockedError at once if another one has it. */
export const lockDataDir = (dataDir: string): DataDirLock => {
  let db: Database.Database;
  try {
    mkdirSync(dataDir, { recursive: true });
    // timeout 0: a lock another process holds is an answer, not something to wait for.
    db = new Database(join(dataDir, LOCK_FILE), { timeout: 0 });
  } catch (error) {
    throw new Error(
      `cannot take DATA_DIR ${dataDir} (its lock file ${LOCK_FILE}): ${(error as Error).message}. Check that this process may create and write files in that folder.`,
      { cause: error },
    );
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // A write takes the exclusive lock; in this locking mode it is kept after the commit.
    db.exec('BEGIN EXCLUSIVE');
    db.exec(
      'CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER, at TEXT)',
    );
    db.prepare('INSERT OR REPLACE INTO holder (id, pid, at) VALUES (1, ?, ?)').run(
      process.pid,
      new Date().toISOString(),
    );
    db.exec('COMMIT');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY')
      throw new DataDirLockedError(dataDir, readHolder(dataDir));
    throw error;
  }
  try {
    writeFileSync(
      join(dataDir, HOLDER_FILE),
      `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })}\n`,
    );
  } catch {
    // Only the message a refused process prints is the poorer for it.
  }
  let held = true;
  return {
    dataDir,
    release() {
      if (!held) return;
      held = false;
      db.close();
    },
  };
};

const readHolder = (dataDir: string): string | undefined => {
  try {
    const { pid, host, since } = JSON.parse(readFileSync(join(dataDir, HOLDER_FILE), 'utf8')) as Record<
      string,
      unknown
    >;
    return `pid ${String(pid)} on ${String(host)}, since ${String(since)}`;
  } catch {
    return undefined;
  }
};
