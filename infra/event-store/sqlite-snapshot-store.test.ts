import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
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

it('skips a save while the writer holds the lock, at once, instead of holding up the event loop', async () => {
  const file = join(dir, 'busy.sqlite');
  const events = createSqliteEventStore({ file });
  const snapshots = createSqliteSnapshotStore({ file });
  const writer = new Database(file);
  try {
    await snapshots.save({ streamId: 's', revision: 1, version: 'v', data: { n: 1 } });
    writer.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    await snapshots.save({ streamId: 's', revision: 2, version: 'v', data: { n: 2 } });
    expect(performance.now() - started).toBeLessThan(1000); // it waited 5 s before
    expect((await snapshots.load('s'))?.revision).toBe(1);
    writer.exec('ROLLBACK');
    await snapshots.save({ streamId: 's', revision: 3, version: 'v', data: { n: 3 } });
    expect((await snapshots.load('s'))?.revision).toBe(3);
  } finally {
    writer.close();
    await snapshots.close();
    await events.close();
  }
});
