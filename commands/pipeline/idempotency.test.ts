import { beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../../infra/event-store/event-store.js';
import { createEventStoreDbEventStore } from '../../infra/event-store/eventstoredb-event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import {
  type EsdbTestServer,
  startEsdbTestServer,
} from '../../infra/event-store/testing/esdb-test-server/index.js';
import { IdempotencyKeyReusedError } from './handle-command.js';
import {
  createIdempotencyStore,
  type IdempotencyStore,
  InvalidIdempotencyRecordError,
  idempotencyStreamId,
  idFromIdempotencyKey,
} from './idempotency.js';

const context = { correlationId: 'c-1', causationId: 'c-1' };
const metadata = { eventId: 'e-1', ...context, occurredAt: new Date(0).toISOString(), schemaVersion: 1 };

let eventStore: EventStore;
let store: IdempotencyStore;

beforeEach(() => {
  eventStore = createMemoryEventStore();
  store = createIdempotencyStore(eventStore);
});

/** Puts whatever the test says into a key's record stream, as another writer or damage could. */
const plant = (key: string, type: string, data: unknown) =>
  eventStore.append(idempotencyStreamId(key), [{ type, data, metadata }], { expectedRevision: 'no_stream' });

describe('idempotency store', () => {
  it('finds nothing for a new key, then the response saved under it', async () => {
    expect(await store.find('k', 'h')).toBeUndefined();
    await store.save('k', 'h', { status: 201, body: { id: 'a-1' } }, context);
    expect(await store.find('k', 'h')).toEqual({ status: 201, body: { id: 'a-1' } });
  });

  it('refuses the key for a request with another hash', async () => {
    await store.save('k', 'h', { status: 200, body: {} }, context);
    await expect(store.find('k', 'other')).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
  });

  it('keeps the first response when a concurrent repeat saves again', async () => {
    await store.save('k', 'h', { status: 201, body: { n: 1 } }, context);
    await store.save('k', 'h', { status: 201, body: { n: 2 } }, context);
    expect(await store.find('k', 'h')).toEqual({ status: 201, body: { n: 1 } });
  });

  it.each([
    ['no response', 'IdempotentResponseRecorded', { requestHash: 'h' }],
    [
      'a status that is not a number',
      'IdempotentResponseRecorded',
      { requestHash: 'h', response: { status: '201' } },
    ],
    [
      'a failure status',
      'IdempotentResponseRecorded',
      { requestHash: 'h', response: { status: 500, body: {} } },
    ],
    ['no request hash', 'IdempotentResponseRecorded', { response: { status: 201, body: {} } }],
    ['another event type', 'SomethingElse', { requestHash: 'h', response: { status: 201, body: {} } }],
  ])('fails as a server fault, not a miss or a replay, on a record with %s', async (_, type, data) => {
    await plant('k', type, data);
    const found = store.find('k', 'h');
    await expect(found).rejects.toBeInstanceOf(InvalidIdempotencyRecordError);
    await expect(found).rejects.toThrow(idempotencyStreamId('k'));
  });
});

describe('idFromIdempotencyKey', () => {
  it('derives the same id from the same key, and a random one without a key', () => {
    const id = idFromIdempotencyKey('acc', 'key-1');
    expect(id).toMatch(/^acc-[0-9a-f]{32}$/);
    expect(idFromIdempotencyKey('acc', 'key-1')).toBe(id);
    expect(idFromIdempotencyKey('acc', 'key-2')).not.toBe(id);
    expect(idFromIdempotencyKey('acc', undefined)).not.toBe(idFromIdempotencyKey('acc', undefined));
  });
});

describe('idempotency store: retention', () => {
  const HOUR = 60 * 60 * 1000;
  let clock: number;
  const now = () => new Date(clock);
  const retained = (on: EventStore) => createIdempotencyStore(on, { retentionMs: 24 * HOUR, now });

  beforeEach(() => {
    clock = Date.parse('2030-01-01T00:00:00Z');
  });

  it('replays a record up to the retention, and forgets it after', async () => {
    store = retained(eventStore);
    await store.save('k', 'h', { status: 201, body: { n: 1 } }, context);
    clock += 24 * HOUR;
    expect(await store.find('k', 'h')).toEqual({ status: 201, body: { n: 1 } });
    await expect(store.find('k', 'other')).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    clock += 1;
    expect(await store.find('k', 'h')).toBeUndefined();
    // Forgotten means forgotten: another request under the key is new too.
    expect(await store.find('k', 'other')).toBeUndefined();
  });

  it('records a new response after an expired one, and replays that', async () => {
    store = retained(eventStore);
    await store.save('k', 'h', { status: 201, body: { n: 1 } }, context);
    clock += 25 * HOUR;
    await store.save('k', 'other', { status: 200, body: { n: 2 } }, context);
    expect(await store.find('k', 'other')).toEqual({ status: 200, body: { n: 2 } });
    await expect(store.find('k', 'h')).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    // Concurrent repeats of it record nothing more.
    await Promise.all(
      [1, 2, 3].map(() => store.save('k', 'other', { status: 200, body: { n: 3 } }, context)),
    );
    expect((await eventStore.readStream(idempotencyStreamId('k'))).map((e) => e.revision)).toEqual([0, 1]);
    expect(await store.find('k', 'other')).toEqual({ status: 200, body: { n: 2 } });
  });

  it('records again after the embedded store deleted the expired record stream', async () => {
    store = retained(eventStore);
    await store.save('k', 'h', { status: 201, body: { n: 1 } }, context);
    await eventStore.append('other', [{ type: 'Noted', data: {}, metadata }], {
      expectedRevision: 'no_stream',
    });
    clock += 25 * HOUR;
    expect(await eventStore.expireStreams?.('idempotency-', new Date(clock - 24 * HOUR))).toBe(1);
    await store.save('k', 'other', { status: 200, body: { n: 2 } }, context);
    expect(await store.find('k', 'other')).toEqual({ status: 200, body: { n: 2 } });
  });

  describe('on EventStoreDB (wire-level test server)', () => {
    let server: EsdbTestServer;
    let esdb: EventStore;
    beforeEach(async () => {
      server = await startEsdbTestServer();
      esdb = createEventStoreDbEventStore(server.url);
      return async () => {
        await esdb.close();
        await server.stop();
      };
    });

    it('gives each record stream the retention as $maxAge, and records again once the server hides the expired one', async () => {
      store = retained(esdb);
      await store.save('k', 'h', { status: 201, body: { n: 1 } }, context);
      // The server's clock decides what it hides: a minute before the retention the record is there.
      server.advanceClock(24 * HOUR - 60_000);
      expect(await esdb.readStream(idempotencyStreamId('k'))).toHaveLength(1);
      server.advanceClock(2 * 60_000);
      clock += 25 * HOUR;
      expect(await esdb.readStream(idempotencyStreamId('k'))).toEqual([]);
      expect(await store.find('k', 'h')).toBeUndefined();
      // The hidden record still holds revision 0: the new one follows it.
      await store.save('k', 'other', { status: 200, body: { n: 2 } }, context);
      expect((await esdb.readStream(idempotencyStreamId('k'))).map((e) => e.revision)).toEqual([1]);
      expect(await store.find('k', 'other')).toEqual({ status: 200, body: { n: 2 } });
    });
  });
});
