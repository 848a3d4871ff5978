import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { EventData } from './event-store.js';
import { createSqliteEventStore } from './sqlite-event-store.js';
import { MARKER_FILE, readMarker } from './store-marker.js';
import { verifyEventStore } from './verify-store.js';

const dir = mkdtempSync(join(tmpdir(), 'eventfold-expire-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DAY = 24 * 60 * 60 * 1000;

const event = (type: string, occurredAt: Date): EventData => ({
  type,
  data: { type, pad: 'x'.repeat(200) },
  metadata: {
    eventId: randomUUID(),
    correlationId: randomUUID(),
    causationId: randomUUID(),
    occurredAt: occurredAt.toISOString(),
    schemaVersion: 1,
  },
});

it('deleting expired streams from an owned store trips neither its start checks, its marker nor verify', async () => {
  const folder = mkdtempSync(join(dir, 'owned-'));
  const file = join(folder, 'events.sqlite');
  const markerFile = join(folder, MARKER_FILE);
  const open = () => createSqliteEventStore({ file, markerFile });
  const old = new Date(Date.now() - 2 * DAY);

  let store = open();
  // More record streams than one chunk of the walk, between domain streams on either side in id order.
  await store.append('account-1', [event('Opened', old)], { expectedRevision: 'no_stream' });
  await Promise.all(
    Array.from({ length: 1_203 }, (_, i) =>
      store.append(`idempotency-${String(i).padStart(5, '0')}`, [event('Recorded', old)], {
        expectedRevision: 'no_stream',
      }),
    ),
  );
  await store.append('idempotency-fresh', [event('Recorded', new Date())], { expectedRevision: 'no_stream' });
  await store.append('transfer-1', [event('Requested', old), event('Completed', old)], {
    expectedRevision: 'no_stream',
  });
  const head = await store.headPosition();
  await store.close();
  expect(readMarker(markerFile)?.lastPosition).toBe(String(head));

  store = open();
  expect(await store.expireStreams?.('idempotency-', new Date(Date.now() - DAY))).toBe(1_203);
  const left = await store.readAll();
  expect(left.map((e) => `${e.streamId}@${e.revision}`)).toEqual([
    'account-1@0',
    'idempotency-fresh@0',
    'transfer-1@0',
    'transfer-1@1',
  ]);
  expect(await store.headPosition()).toBe(head);
  const verified = await verifyEventStore(store);
  expect(verified).toMatchObject({ events: 4, streams: 3, damaged: [], gaps: [], head });
  // A stream that went starts again, after the head: no position is given twice.
  const again = await store.append('idempotency-00000', [event('Recorded', new Date())], {
    expectedRevision: 'no_stream',
  });
  expect(again.position > (head as bigint)).toBe(true);
  await store.close();

  // Start-up checks the log against the marker (which now says the new head) and opens it.
  store = open();
  expect(await store.headPosition()).toBe(again.position);
  expect((await verifyEventStore(store)).gaps).toEqual([]);
  await store.close();
});

it('is refused on a store opened read-only', async () => {
  const file = join(dir, `${randomUUID()}.sqlite`);
  const writer = createSqliteEventStore({ file });
  await writer.append('idempotency-a', [event('Recorded', new Date(0))], { expectedRevision: 'no_stream' });
  await writer.close();
  const reader = createSqliteEventStore({ file, readonly: true });
  await expect(reader.expireStreams?.('idempotency-', new Date())).rejects.toThrow(/read-only/);
  await reader.close();
});
