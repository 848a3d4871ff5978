import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll } from 'vitest';
import { snapshotStoreContract } from './snapshot-store.contract.js';
import { createSqliteEventStore } from './sqlite-event-store.js';
import { createSqliteSnapshotStore } from './sqlite-snapshot-store.js';

const dir = mkdtempSync(join(tmpdir(), 'eventfold-snapshots-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

snapshotStoreContract('SQLite (a table beside the events)', async () => {
  const file = join(dir, `events-${++files}.sqlite`);
  const events = createSqliteEventStore({ file });
  const snapshots = createSqliteSnapshotStore({ file });
  return {
    events,
    snapshots,
    // One digit of the stored JSON changed, as a disk or a hand might.
    damage: (streamId) => {
      const db = new Database(file);
      db.prepare("UPDATE snapshots SET data = replace(data, '9', '7') WHERE stream_id = ?").run(streamId);
      db.close();
    },
    close: async () => {
      await snapshots.close();
      await events.close();
    },
  };
});
