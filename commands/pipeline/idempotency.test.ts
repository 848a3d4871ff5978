import { beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
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
