import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { eventStoreContract } from './event-store.contract.js';
import { CorruptEventError, type EventData, WrongExpectedRevisionError } from './event-store.js';
import { createSqliteEventStore, openEventsDatabase } from './sqlite-event-store.js';

const dir = mkdtempSync(join(tmpdir(), 'eventfold-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const newFile = () => join(dir, `${randomUUID()}.sqlite`);

const files = new WeakMap<object, string>();
eventStoreContract(
  'SQLite',
  () => {
    const file = newFile();
    const store = createSqliteEventStore({ file });
    files.set(store, file);
    return store;
  },
  {
    freshStore: true,
    // One changed character in the stored JSON, by another connection, as an editor or a disk would.
    damage: (store, streamId, revision) => {
      const db = new Database(files.get(store) as string);
      const changed = db
        .prepare("UPDATE events SET data = replace(data, '9', '7') WHERE stream_id = ? AND revision = ?")
        .run(streamId, revision).changes;
      db.close();
      expect(changed).toBe(1);
    },
    without: { setStreamMaxAge: 'it deletes expired streams itself (expireStreams)' },
  },
);

const event = (type: string): EventData => ({
  type,
  data: { type },
  metadata: {
    eventId: randomUUID(),
    correlationId: randomUUID(),
    causationId: randomUUID(),
    occurredAt: new Date().toISOString(),
    schemaVersion: 1,
  },
});

describe('SQLite event store', () => {
  it('creates the directory of its file and keeps events across reopening', async () => {
    const file = join(dir, 'nested', 'deeper', 'events.sqlite');
    const first = createSqliteEventStore({ file, synchronous: 'normal' });
    const { position } = await first.append('a', [event('Opened')], { expectedRevision: 'no_stream' });
    await first.close();
    expect(existsSync(file)).toBe(true);
    const reopened = createSqliteEventStore({ file });
    expect((await reopened.readStream('a')).map((e) => e.position)).toEqual([position]);
    await reopened.close();
  });

  it('checks the expected revision against writes from another connection to the same file', async () => {
    const file = newFile();
    const [one, two] = [createSqliteEventStore({ file }), createSqliteEventStore({ file })];
    await one.append('a', [event('Opened')], { expectedRevision: 'no_stream' });
    await expect(
      two.append('a', [event('Opened')], { expectedRevision: 'no_stream' }),
    ).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    expect((await two.append('a', [event('Renamed')], { expectedRevision: 0 })).nextRevision).toBe(1);
    await Promise.all([one.close(), two.close()]);
  });

  it('wakes a live subscription for appends by another process, through polling', async () => {
    const file = newFile();
    const reader = createSqliteEventStore({ file, pollMs: 20 });
    const writer = createSqliteEventStore({ file });
    const controller = new AbortController();
    const received: string[] = [];
    const done = (async () => {
      for await (const e of reader.subscribeToAll({ signal: controller.signal })) {
        received.push(e.type);
        if (received.length === 2) controller.abort();
      }
    })();
    await writer.append('a', [event('Opened')], { expectedRevision: 'no_stream' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await writer.append('a', [event('Renamed')], { expectedRevision: 0 });
    await done;
    expect(received).toEqual(['Opened', 'Renamed']);
    await Promise.all([reader.close(), writer.close()]);
  });

  it('an append that fails half-way writes nothing, and appends grouped with it still commit', async () => {
    const store = createSqliteEventStore({ file: newFile() });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const [ok, broken] = await Promise.allSettled([
      store.append('a', [event('Opened')], { expectedRevision: 'no_stream' }),
      store.append('b', [event('Opened'), { ...event('Renamed'), data: circular }], {
        expectedRevision: 'no_stream',
      }),
    ]);
    expect(ok.status).toBe('fulfilled');
    expect(broken.status).toBe('rejected');
    expect((await store.readAll()).map((e) => e.streamId)).toEqual(['a']);
    await store.close();
  });

  it('a full disk fails the whole group: no append is both refused and written', async () => {
    // A real SQLITE_FULL: the store's write connection may not grow its file by more than a few pages.
    const file = newFile();
    const prepared = openEventsDatabase({ file });
    const pages = Number(prepared.pragma('page_count', { simple: true }));
    prepared.close();
    const store = createSqliteEventStore({ file, writerPragmas: [`max_page_count = ${pages + 4}`] });
    const huge = { ...event('Huge'), data: { payload: 'x'.repeat(100_000) } };
    const results = await Promise.allSettled(
      [[event('Opened')], [huge], [event('Opened')]].map((events, i) =>
        store.append(`s-${i}`, events, { expectedRevision: 'no_stream' }),
      ),
    );
    expect(results[1]?.status).toBe('rejected');
    const written = new Set((await store.readAll()).map((e) => e.streamId));
    for (const [i, result] of results.entries())
      expect(written.has(`s-${i}`), `append ${i}: ${result.status}`).toBe(result.status === 'fulfilled');
    await store.close();
  });

  it('closing the store ends its subscriptions', async () => {
    const store = createSqliteEventStore({ file: newFile() });
    const done = (async () => {
      for await (const _ of store.subscribeToAll()) {
        // nothing is appended
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await store.close();
    await done;
  });

  it("keeps every acknowledged append when the writer is killed with SIGKILL ('normal')", async () => {
    const file = newFile();
    const fixture = fileURLToPath(new URL('./sqlite-append-loop.fixture.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, file, 'normal'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_, signal) => resolve(signal)),
    );
    await new Promise<void>((resolve, reject) => {
      child.on('exit', () => reject(new Error(`writer exited early:\n${output}`)));
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        // Kill it mid-stream, while it is appending as fast as it can.
        if (output.split('\n').length > 500) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    expect(await exited).toBe('SIGKILL');

    // Only complete lines were acknowledged for sure; a cut-off last line is left out.
    const acknowledged = output
      .split('\n')
      .slice(0, -1)
      .map((line) => line.split(' ').map(BigInt) as [bigint, bigint]);
    expect(acknowledged.length).toBeGreaterThanOrEqual(500);

    const db = openEventsDatabase({ file });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const store = createSqliteEventStore({ file });
    const all = await store.readAll();
    const byPosition = new Map(all.map((e) => [e.position, e]));
    for (const [batch, position] of acknowledged) {
      for (const [index, at] of [position - 2n, position - 1n, position].entries()) {
        expect(byPosition.get(at)?.data, `batch ${batch} event ${index}`).toEqual({
          batch: Number(batch),
          index,
          payload: `${batch}:${index}:`.padEnd(200, '#'),
        });
      }
    }
    // Appends are atomic: whatever made it to disk, acknowledged or not, is whole batches.
    expect(all.length % 3).toBe(0);
    await store.close();
  });
});

/** The schema as it was before checksums and store ids. */
const SCHEMA_BEFORE_CHECKSUMS = `
  CREATE TABLE events (
    position INTEGER PRIMARY KEY,
    stream_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    metadata TEXT NOT NULL,
    UNIQUE (stream_id, revision)
  );
  CREATE INDEX events_by_type ON events (type, position);
`;

const sql = (file: string, statement: string, ...params: unknown[]) => {
  const db = new Database(file);
  try {
    return db.prepare(statement).run(...params).changes;
  } finally {
    db.close();
  }
};

const readError = (read: Promise<unknown>) =>
  read.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('SQLite event store: checksums', () => {
  it('stores a checksum with every event and reads a changed digit as damage, never as data', async () => {
    const file = newFile();
    const store = createSqliteEventStore({ file });
    await store.append(
      'account-ada',
      [{ ...event('MoneyDeposited'), data: { amount: 1000, balanceAfter: 1000 } }],
      {
        expectedRevision: 'no_stream',
      },
    );
    const { position } = await store.append(
      'account-ada',
      [{ ...event('MoneyWithdrawn'), data: { amount: 100, balanceAfter: 900 } }],
      { expectedRevision: 0 },
    );
    // One digit, as the reported case: a balance of 900 that reads as 900900 lets an overdraft through.
    expect(
      sql(
        file,
        `UPDATE events SET data = replace(data, '"balanceAfter":900', '"balanceAfter":900900') WHERE position = ?`,
        Number(position),
      ),
    ).toBe(1);
    const error = await readError(store.readStream('account-ada'));
    expect(error).toBeInstanceOf(CorruptEventError);
    expect(error).toMatchObject({
      streamId: 'account-ada',
      revision: 1,
      position,
      storedType: 'MoneyWithdrawn',
    });
    expect((error as Error).message).toBe(
      `stream account-ada: the stored event at revision 1 (position ${position}) is damaged: its checksum does not match its content`,
    );
    expect(store.damagedEvents?.()).toEqual([error]);
    await store.close();
  });

  it('a missing checksum, or content that is not JSON, is damage too', async () => {
    const file = newFile();
    const store = createSqliteEventStore({ file });
    await store.append('a', [event('Opened')], { expectedRevision: 'no_stream' });
    await store.append('b', [event('Opened')], { expectedRevision: 'no_stream' });
    sql(file, "UPDATE events SET checksum = NULL WHERE stream_id = 'a'");
    sql(file, "UPDATE events SET metadata = '{\"eventId\": tru' WHERE stream_id = 'b'");
    expect(await readError(store.readStream('a'))).toMatchObject({ reason: 'it has no checksum' });
    expect(await readError(store.readStream('b'))).toMatchObject({
      reason: 'its checksum does not match its content',
    });
    await store.close();
  });

  it('a file from before checksums gets them once, when first opened, and says so', async () => {
    const file = newFile();
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.exec(SCHEMA_BEFORE_CHECKSUMS);
    const insert = old.prepare(
      'INSERT INTO events (stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?)',
    );
    for (let i = 0; i < 2500; i++)
      insert.run(
        `s-${i % 10}`,
        Math.floor(i / 10),
        'Noted',
        JSON.stringify({ i }),
        JSON.stringify(event('Noted').metadata),
      );
    old.close();

    const logged: Array<{ detail: Record<string, unknown>; message: string }> = [];
    const log = {
      info: (detail: Record<string, unknown>, message: string) => logged.push({ detail, message }),
      warn: () => {},
    };
    const store = createSqliteEventStore({ file, log });
    expect(logged).toEqual([
      {
        detail: { file, events: 2500, ms: expect.any(Number) },
        message: 'event log from before checksums: computed the checksum of every event, once',
      },
    ]);
    expect(await store.readAll()).toHaveLength(2500);
    await store.close();
    // Once: a second opening has nothing to add, and damage is now noticed.
    const again = createSqliteEventStore({ file, log });
    expect(logged).toHaveLength(1);
    sql(file, `UPDATE events SET data = '{"i":7000}' WHERE position = 7`);
    expect(await readError(again.readAll())).toBeInstanceOf(CorruptEventError);
    await again.close();
  });

  it('read-only, a file is read as it is and changed in nothing (a file from before checksums reads unchecked)', async () => {
    const file = newFile();
    const old = new Database(file);
    old.exec(SCHEMA_BEFORE_CHECKSUMS);
    old
      .prepare('INSERT INTO events (stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?)')
      .run('a', 0, 'Opened', '{}', JSON.stringify(event('Opened').metadata));
    old.close();
    const reader = createSqliteEventStore({ file, readonly: true });
    expect((await reader.readAll()).map((e) => e.type)).toEqual(['Opened']);
    await expect(reader.append('a', [event('Renamed')], { expectedRevision: 0 })).rejects.toThrow(
      /read-only/,
    );
    await expect(reader.checkWrites?.()).rejects.toThrow(/read-only/);
    await reader.close();
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT name FROM pragma_table_info('events') WHERE name = 'checksum'").all()).toEqual(
      [],
    );
    db.close();
  });

  it('checkWrites passes on a writable store, with another connection writing or not', async () => {
    const file = newFile();
    const store = createSqliteEventStore({ file });
    await store.checkWrites?.();
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    await store.checkWrites?.();
    other.exec('ROLLBACK');
    other.close();
    await store.close();
  });
});
