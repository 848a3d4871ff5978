import Database from 'better-sqlite3';
import {
  CorruptSnapshotError,
  type Snapshot,
  type SnapshotStore,
  snapshotChecksum,
} from './snapshot-store.js';

/**
 * The table beside the events (same file), one row per stream: a backup or a restore of the file
 * takes the snapshots with the events they were made from. Not the `events` table, so no read of
 * `$all` or subscription ever sees one.
 */
export const SNAPSHOTS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS snapshots (
    stream_id TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    version TEXT NOT NULL,
    data TEXT NOT NULL,
    checksum TEXT NOT NULL
  );
`;

type Row = { revision: number; version: string; data: string; checksum: string };

/**
 * Snapshots in the embedded store's SQLite file, through a connection of their own (the event
 * store's file module is left as it is). That connection commits with synchronous=NORMAL: a
 * snapshot lost to a power cut costs one longer read, so it need not wait for an fsync. Open it
 * after the event store, which checks and prepares the file.
 *
 * It runs on the event loop while the event store commits in a thread of its own (sqlite-writer.ts):
 * a save never waits for the writer's lock (busy timeout 0). One that finds the lock held is
 * skipped: a snapshot is an optimisation, and the next one comes `every` events later, while a
 * wait would hold up every request for as long as a commit with its fsync takes.
 */
export const createSqliteSnapshotStore = ({ file }: { file: string }): SnapshotStore => {
  // Opening and creating the table may wait: that happens once, at start.
  const db = new Database(file, { timeout: 5000 });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(SNAPSHOTS_SCHEMA);
    db.pragma('busy_timeout = 0');
  } catch (error) {
    db.close();
    throw error;
  }
  const select = db.prepare<[string], Row>(
    'SELECT revision, version, data, checksum FROM snapshots WHERE stream_id = ?',
  );
  const upsert = db.prepare(
    `INSERT INTO snapshots (stream_id, revision, version, data, checksum) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision, version = excluded.version,
       data = excluded.data, checksum = excluded.checksum`,
  );

  return {
    async load(streamId) {
      const row = select.get(streamId);
      if (!row) return undefined;
      const { revision, version, data, checksum } = row;
      if (typeof data !== 'string' || checksum !== snapshotChecksum(streamId, revision, version, data))
        throw new CorruptSnapshotError(streamId, 'its checksum does not match its content');
      return { streamId, revision, version, data: JSON.parse(data) } satisfies Snapshot;
    },
    async save({ streamId, revision, version, data }) {
      const json = JSON.stringify(data) ?? 'null';
      try {
        upsert.run(streamId, revision, version, json, snapshotChecksum(streamId, revision, version, json));
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      }
    },
    async close() {
      db.close();
    },
  };
};
