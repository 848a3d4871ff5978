import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type AppendResult,
  type EventData,
  EventStoreUnavailableError,
  WrongExpectedRevisionError,
} from './event-store.js';
import { openEventsDatabase } from './sqlite-database.js';
import { createSqliteEventStore } from './sqlite-event-store.js';
import { startSqliteWriter } from './sqlite-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'eventfold-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const newFile = () => {
  const file = join(dir, `${randomUUID()}.sqlite`);
  openEventsDatabase({ file }).close();
  return file;
};

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

/** Another connection holding the write lock, as another process's writer would while it commits. */
const holdWriteLock = (file: string) => {
  const other = new Database(file);
  other.exec('BEGIN IMMEDIATE');
  return () => {
    other.exec('COMMIT');
    other.close();
  };
};

const settledState = <T>(promise: Promise<T>) => {
  const state = { settled: false };
  promise.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
};

describe('SQLite writer thread', () => {
  it('acknowledges an append only after its transaction committed, and the event loop goes on meanwhile', async () => {
    const file = newFile();
    const store = createSqliteEventStore({ file });
    await store.append('warm-up', [event('Opened')], { expectedRevision: 'no_stream' });
    const release = holdWriteLock(file);
    let appending: Promise<AppendResult>;
    let state: { settled: boolean };
    try {
      appending = store.append('a', [event('Opened')], { expectedRevision: 'no_stream' });
      state = settledState(appending);
      // The commit waits for the lock in the writer's thread; this one still runs its timers.
      const started = performance.now();
      await sleep(300);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(state.settled).toBe(false);
      expect(await store.readStream('a')).toEqual([]);
    } finally {
      release();
    }
    const { position } = await appending;
    expect((await store.readStream('a')).map((e) => e.position)).toEqual([position]);
    await store.close();
  });

  it('appends that arrive while a commit is in flight share the next transaction; a conflicting one is refused alone', async () => {
    const file = newFile();
    const writer = startSqliteWriter({ file, synchronous: 'full', onCommitted: () => {} });
    await writer.append('taken', [event('Opened')], 'no_stream');
    expect(writer.stats).toEqual({ commits: 1, appends: 1 });

    const release = holdWriteLock(file);
    let first: Promise<AppendResult>;
    const later: Promise<AppendResult>[] = [];
    let conflicting: Promise<AppendResult>;
    try {
      first = writer.append('first', [event('Opened')], 'no_stream');
      await sleep(200); // the thread has taken `first` and waits for the lock with it
      // Each in a turn of its own, so each goes to the thread in a message of its own.
      for (let i = 0; i < 10; i++) {
        later.push(writer.append(`later-${i}`, [event('Opened'), event('Renamed')], 'no_stream'));
        await sleep(5);
      }
      conflicting = writer.append('taken', [event('Opened')], 'no_stream');
      await sleep(100);
    } finally {
      release();
    }
    await first;
    const results = await Promise.all(later);
    expect(results.map((r) => r.nextRevision)).toEqual(Array(10).fill(1));
    const refused = await conflicting.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(WrongExpectedRevisionError);
    expect((refused as WrongExpectedRevisionError).actual).toBe(0);
    // warm-up, `first`, then the ten and the refused one in one transaction.
    expect(writer.stats).toEqual({ commits: 3, appends: 12 });

    const db = new Database(file, { readonly: true });
    const rows = db.prepare('SELECT stream_id, revision FROM events ORDER BY position').all() as {
      stream_id: string;
    }[];
    db.close();
    expect(rows.filter((row) => row.stream_id === 'taken')).toHaveLength(1);
    expect(rows).toHaveLength(1 + 1 + 20);
    await writer.close();
  });

  it('answers every append sent before close, and refuses those after', async () => {
    const file = newFile();
    const store = createSqliteEventStore({ file });
    const appends = Array.from({ length: 20 }, (_, i) =>
      store.append(`s-${i}`, [event('Opened')], { expectedRevision: 'no_stream' }),
    );
    await store.close();
    expect((await Promise.all(appends)).every((r) => r.nextRevision === 0)).toBe(true);
    await expect(store.append('late', [event('Opened')], { expectedRevision: 'any' })).rejects.toThrow(
      /closed/,
    );
    const reopened = createSqliteEventStore({ file, readonly: true });
    expect(await reopened.readAll()).toHaveLength(20);
    await reopened.close();
  });

  it('a writer thread that cannot start fails its appends as unavailable, and readiness says why', async () => {
    const file = newFile();
    const store = createSqliteEventStore({ file, writerPragmas: ['no such pragma'] });
    const failed = await store.append('a', [event('Opened')], { expectedRevision: 'no_stream' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(EventStoreUnavailableError);
    await expect(store.checkWrites?.()).rejects.toThrow(/writer .* stopped/);
    expect(await store.readAll()).toEqual([]);
    await store.close();
  });
});

describe('SQLite event store: who goes first after a commit', () => {
  it('an append is answered before its subscribers are woken, and they are woken', async () => {
    const store = createSqliteEventStore({ file: newFile() });
    const received: bigint[] = [];
    const stop = new AbortController();
    const subscribed = (async () => {
      for await (const e of store.subscribeToAll({ signal: stop.signal })) received.push(e.position);
    })();
    await sleep(50); // caught up on the empty log, waiting for an append
    for (let i = 0; i < 3; i++) {
      const { position } = await store.append(`s-${i}`, [event('Opened')], { expectedRevision: 'no_stream' });
      // Everything the answer set going (its continuations, a reply's serialization) runs first:
      // not woken within the microtasks that follow it, only in a later turn of the event loop.
      for (let hop = 0; hop < 50; hop++) await Promise.resolve();
      expect(received).not.toContain(position);
      for (let tries = 0; tries < 100 && !received.includes(position); tries++) await sleep(10);
      expect(received).toContain(position);
    }
    stop.abort();
    await subscribed;
    await store.close();
  });
});
