import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { EventData, EventStore } from '../../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { createSqliteEventStore } from '../../infra/event-store/sqlite-event-store.js';
import { MARKER_FILE } from '../../infra/event-store/store-marker.js';
import { verifyEventStore } from '../../infra/event-store/verify-store.js';
import { createIdempotencyStore, idempotencyStreamId } from './idempotency.js';
import { startIdempotencySweep } from './idempotency-sweep.js';

const dir = mkdtempSync(join(tmpdir(), 'eventfold-sweep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOUR = 60 * 60 * 1000;
const context = { correlationId: 'c-1', causationId: 'c-1' };

const event = (type: string, at: number): EventData => ({
  type,
  data: { type },
  metadata: {
    eventId: randomUUID(),
    correlationId: 'c-1',
    causationId: 'c-1',
    occurredAt: new Date(at).toISOString(),
    schemaVersion: 1,
  },
});

const streamsOf = async (store: EventStore) =>
  [...new Set((await store.readAll()).map((e) => e.streamId))].sort();

it('deletes expired record streams from the embedded store, and no domain event or checkpoint', async () => {
  const folder = mkdtempSync(join(dir, 'store-'));
  const store = createSqliteEventStore({
    file: join(folder, 'events.sqlite'),
    markerFile: join(folder, MARKER_FILE),
  });
  let clock = Date.parse('2030-01-01T00:00:00Z');
  const now = () => new Date(clock);
  const records = createIdempotencyStore(store, { retentionMs: 24 * HOUR, now });

  // Old domain history and a process manager's checkpoint, as old as the oldest records.
  await store.append('account-1', [event('Opened', clock), event('Deposited', clock)], {
    expectedRevision: 'no_stream',
  });
  await store.append('checkpoint-transfers-0', [event('CheckpointSaved', clock)], {
    expectedRevision: 'no_stream',
  });
  await records.save('old-1', 'h', { status: 201, body: {} }, context);
  await records.save('old-2', 'h', { status: 201, body: {} }, context);
  clock += 12 * HOUR;
  await records.save('recent', 'h', { status: 200, body: {} }, context);
  clock += 13 * HOUR;
  await store.append('account-1', [event('Deposited', clock)], { expectedRevision: 1 });

  const sweep = startIdempotencySweep({ eventStore: store, retentionMs: 24 * HOUR, now, intervalMs: 60_000 });
  // The pass at start is under way or done; this one waits for it or runs one more.
  await sweep.sweep();
  expect(await streamsOf(store)).toEqual(
    ['account-1', 'checkpoint-transfers-0', idempotencyStreamId('recent')].sort(),
  );
  expect(await store.readStream('account-1')).toHaveLength(3);
  expect(await verifyEventStore(store)).toMatchObject({ events: 5, damaged: [], gaps: [] });

  clock += 12 * HOUR;
  expect(await sweep.sweep()).toBe(1);
  expect(await streamsOf(store)).toEqual(['account-1', 'checkpoint-transfers-0']);
  await sweep.stop();
  await store.close();
});

it('runs at start and then every interval, until stopped', async () => {
  const store = createMemoryEventStore();
  let passes = 0;
  const counted: EventStore = {
    ...store,
    expireStreams: (prefix, olderThan) => {
      passes++;
      return store.expireStreams!(prefix, olderThan);
    },
  };
  const sweep = startIdempotencySweep({ eventStore: counted, retentionMs: HOUR, intervalMs: 20 });
  expect(passes).toBe(1);
  await new Promise((resolve) => setTimeout(resolve, 110));
  await sweep.stop();
  const stoppedAt = passes;
  expect(stoppedAt).toBeGreaterThanOrEqual(3);
  await new Promise((resolve) => setTimeout(resolve, 60));
  expect(passes).toBe(stoppedAt);
});

it('reports a pass that fails, and the next pass runs', async () => {
  const store = createMemoryEventStore();
  const errors: unknown[] = [];
  let fail = true;
  const flaky: EventStore = {
    ...store,
    expireStreams: async (prefix, olderThan) => {
      if (fail) throw new Error('disk I/O error');
      return store.expireStreams!(prefix, olderThan);
    },
  };
  const sweep = startIdempotencySweep({
    eventStore: flaky,
    retentionMs: HOUR,
    intervalMs: 20,
    onError: (error) => errors.push(error),
  });
  await new Promise((resolve) => setTimeout(resolve, 10));
  expect(errors).toHaveLength(1);
  fail = false;
  expect(await sweep.sweep()).toBe(0);
  await sweep.stop();
});

it('leaves alone a store that reclaims space itself', async () => {
  const { expireStreams: _, ...withoutExpiry } = createMemoryEventStore();
  const sweep = startIdempotencySweep({ eventStore: withoutExpiry, retentionMs: HOUR });
  expect(await sweep.sweep()).toBe(0);
  await sweep.stop();
});
