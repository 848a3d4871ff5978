import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventStore, Position } from '../event-store/event-store.js';
import { createMemoryEventStore } from '../event-store/memory-event-store.js';
import { openReadModelsFile, READ_MODELS_FILE } from './read-models-file.js';
import type { ReadStore } from './read-store.js';

const dirs: string[] = [];
const stores: ReadStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const event = (n: number) => ({
  type: 'Happened',
  data: { n },
  metadata: {
    eventId: `event-${n}-${Math.random()}`,
    correlationId: 'c',
    causationId: 'c',
    occurredAt: new Date().toISOString(),
    schemaVersion: 1,
  },
});

/** A log of `count` events; `of` gives the events of another log, so two logs can share their first ones. */
const logOf = async (count: number, of = Array.from({ length: count }, (_, n) => event(n))) => {
  const log = createMemoryEventStore();
  for (const [n, each] of of.slice(0, count).entries())
    await log.append(`s-${n}`, [each], { expectedRevision: 'no_stream' });
  return Object.assign(log, { events: of });
};

/** The read models as a projection leaves them: a document, and its checkpoint in a collection of the store. */
const setup = () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'eventfold-read-models-'));
  dirs.push(dataDir);
  const warnings: { reason?: string; msg: string }[] = [];
  const log = {
    info: () => {},
    warn: (fields: { reason?: string }, msg: string) => warnings.push({ ...fields, msg }),
  } as never;
  const checkpoints = async (store: ReadStore) => {
    const doc = await store.collection('checkpoints').findOne({ _id: 'p' });
    return [doc ? (BigInt(doc.position as string) as Position) : undefined];
  };
  const open = async (eventStore: EventStore) => {
    const store = await openReadModelsFile({ dataDir, eventStore, checkpoints, log });
    stores.push(store);
    return store;
  };
  const project = async (store: ReadStore, position: bigint) => {
    await store.collection('docs').bulkWrite([{ insertOne: { document: { _id: `d${position}` } } }]);
    await store.collection('checkpoints').bulkWrite([
      {
        updateOne: { filter: { _id: 'p' }, update: { $set: { position: String(position) } }, upsert: true },
      },
    ]);
  };
  return { dataDir, file: join(dataDir, READ_MODELS_FILE), warnings, open, project };
};

describe('read models on disk', () => {
  it('opens what the last run left, when it matches the log', async () => {
    const { open, project, warnings } = setup();
    const log = await logOf(3);
    const first = await open(log);
    await project(first, 3n);
    await first.close();

    await log.append('s-more', [event(9)], { expectedRevision: 'no_stream' });
    const again = await open(log);
    expect(await again.collection('docs').countDocuments()).toBe(1);
    expect(await again.collection('checkpoints').findOne({ _id: 'p' })).toMatchObject({ position: '3' });
    expect(warnings).toEqual([]);
  });

  it('drops read models whose checkpoint is ahead of the log (an older copy of the log), saying why', async () => {
    const { open, project, warnings } = setup();
    const log = await logOf(5);
    const first = await open(log);
    await project(first, 5n);
    await first.close();

    const older = await logOf(3, log.events);
    const again = await open(older);
    expect(await again.collection('docs').countDocuments()).toBe(0);
    expect(await again.collection('checkpoints').countDocuments()).toBe(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.reason).toMatch(/checkpoint \(5\) is ahead of the event log's head \(3\)/);
  });

  it('drops read models built from another log, even one that is longer', async () => {
    const { open, project, warnings } = setup();
    const first = await open(await logOf(2));
    await project(first, 2n);
    await first.close();

    const again = await open(await logOf(10));
    expect(await again.collection('docs').countDocuments()).toBe(0);
    expect(warnings[0]?.reason).toMatch(/built from another event log/);
  });

  it('drops read models when the log is now empty', async () => {
    const { open, project, warnings } = setup();
    const first = await open(await logOf(2));
    await project(first, 2n);
    await first.close();

    const again = await open(createMemoryEventStore());
    expect(await again.collection('docs').countDocuments()).toBe(0);
    expect(warnings).toHaveLength(1);
  });

  it('sets a damaged file aside and starts empty', async () => {
    const { open, file, warnings } = setup();
    writeFileSync(file, Buffer.alloc(8192, 7)); // not a SQLite file
    const store = await open(await logOf(1));
    expect(await store.collection('docs').countDocuments()).toBe(0);
    await store.collection('docs').bulkWrite([{ insertOne: { document: { _id: 'new' } } }]);
    expect(readFileSync(`${file}.damaged`)).toEqual(Buffer.alloc(8192, 7));
    expect(warnings[0]?.msg).toMatch(/cannot be read; set aside/);
  });

  it('sets aside a file of another format', async () => {
    const { open, file, warnings } = setup();
    const db = new Database(file);
    db.exec(
      "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('format', '999')",
    );
    db.close();
    const store = await open(await logOf(1));
    expect(await store.collection('docs').countDocuments()).toBe(0);
    expect(existsSync(`${file}.damaged`)).toBe(true);
    expect(warnings[0]?.msg).toMatch(/cannot be read/);
  });

  it('starts empty when the file is missing', async () => {
    const { open, file, warnings } = setup();
    const store = await open(await logOf(1));
    expect(await store.collection('docs').countDocuments()).toBe(0);
    expect(existsSync(file)).toBe(true);
    expect(warnings).toEqual([]);
  });
});
