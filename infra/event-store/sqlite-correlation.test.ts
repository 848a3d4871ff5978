import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { scanForCorrelation } from './correlation-scan.js';
import type { EventData, EventStore } from './event-store.js';
import { createMemoryEventStore } from './memory-event-store.js';
import { sqliteEventsByCorrelation } from './sqlite-correlation.js';
import { CORRELATION_ID } from './sqlite-database.js';
import { createSqliteEventStore } from './sqlite-event-store.js';

const dir = mkdtempSync(join(tmpdir(), 'eventfold-correlation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
const newFile = () => join(dir, `events-${++count}.sqlite`);

const event = (correlationId: string, n: number): EventData => ({
  type: 'Noted',
  data: { n },
  metadata: {
    eventId: randomUUID(),
    correlationId,
    causationId: correlationId,
    occurredAt: new Date().toISOString(),
    schemaVersion: 1,
  },
});

/** Ten events in three streams a, b, c in turn; `req-1` wrote n = 1, 4 and 7, all in note-b. */
const fill = async (store: EventStore) => {
  for (let n = 0; n < 10; n++)
    await store.append(`note-${'abc'[n % 3]}`, [event(n % 3 === 1 ? 'req-1' : `other-${n}`, n)], {
      expectedRevision: 'any',
    });
};

const numbers = (found: { events: { data: unknown }[] }) =>
  found.events.map((e) => (e.data as { n: number }).n);

describe('sqliteEventsByCorrelation', () => {
  it('finds every event of one correlation across streams, in position order, through the index', async () => {
    const file = newFile();
    const store = createSqliteEventStore({ file });
    await fill(store);
    const found = sqliteEventsByCorrelation(file, 'req-1');
    expect(numbers(found)).toEqual([1, 4, 7]);
    expect(found.events.map((e) => e.streamId)).toEqual(['note-b', 'note-b', 'note-b']);
    expect(found.damaged).toEqual([]);
    expect(sqliteEventsByCorrelation(file, 'nobody').events).toEqual([]);

    const db = new Database(file, { readonly: true });
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN SELECT * FROM events WHERE ${CORRELATION_ID} = ? ORDER BY position`)
      .all('req-1') as { detail: string }[];
    db.close();
    expect(plan.map((step) => step.detail).join('\n')).toContain('events_by_correlation');
    await store.close();
  });

  it('reports a damaged event of the correlation and still lists the rest; metadata that is not JSON fails no write', async () => {
    const file = newFile();
    const store = createSqliteEventStore({ file });
    await fill(store);
    const db = new Database(file);
    db.prepare(`UPDATE events SET data = '{"n":40}' WHERE position = 5`).run();
    // Through the index expression: a plain json_extract would fail this statement.
    db.prepare(`UPDATE events SET metadata = '{"eventId": nul' WHERE position = 8`).run();
    db.close();
    const found = sqliteEventsByCorrelation(file, 'req-1');
    expect(numbers(found)).toEqual([1]);
    expect(found.damaged.map((e) => [e.position, e.reason])).toEqual([
      [5n, 'its checksum does not match its content'],
    ]);
    await store.close();
  });

  it('answers from a file without the index (last opened by an older version), by a scan', async () => {
    const file = newFile();
    const store = createSqliteEventStore({ file });
    await fill(store);
    await store.close();
    const db = new Database(file);
    db.exec('DROP INDEX events_by_correlation');
    db.close();
    expect(numbers(sqliteEventsByCorrelation(file, 'req-1'))).toEqual([1, 4, 7]);
  });
});

describe('scanForCorrelation', () => {
  it('reads the whole of $all through the port, over several pages, and steps over a damaged event', async () => {
    const store = createMemoryEventStore();
    for (let n = 0; n < 2500; n++)
      await store.append(`note-${n % 7}`, [event(n % 500 === 3 ? 'req-1' : 'other', n)], {
        expectedRevision: 'any',
      });
    const scanned: number[] = [];
    const found = await scanForCorrelation(store, 'req-1', { onProgress: (n) => scanned.push(n) });
    expect(numbers(found)).toEqual([3, 503, 1003, 1503, 2003]);
    expect(scanned.at(-1)).toBe(2500);

    // n = 1003 is event 1003 of the log, in note-2 (1003 % 7) at revision 143 (1003 div 7).
    store.damage('note-2', 143);
    const damaged = await scanForCorrelation(store, 'req-1');
    expect(numbers(damaged)).toEqual([3, 503, 1503, 2003]);
    expect(damaged.damaged.map((e) => e.streamId)).toEqual(['note-2']);
  });
});
