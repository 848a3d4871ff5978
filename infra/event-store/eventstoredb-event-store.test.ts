import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventStoreContract } from './event-store.contract.js';
import { createEventStoreDbEventStore, isSystem, toEventId } from './eventstoredb-event-store.js';
import { exactly } from './eventstoredb-subscription.js';

const url = process.env.EVENTSTORE_URL;
if (!url) {
  console.warn(
    'skipped: EventStoreDB contract — set EVENTSTORE_URL (e.g. esdb://localhost:2113?tls=false) to run it',
  );
}

describe.skipIf(!url)('EventStoreDB', () => {
  eventStoreContract('EventStoreDB', () => createEventStoreDbEventStore(url as string));
});

// The parts of the adapter that need no server.
describe('EventStoreDB adapter, without a server', () => {
  it('builds a server filter regex that matches exactly the given event types', () => {
    const regex = new RegExp(exactly(['Account.Opened', 'a+b', 'x|y', '(c)']));
    for (const type of ['Account.Opened', 'a+b', 'x|y', '(c)']) expect(regex.test(type)).toBe(true);
    for (const type of ['AccountXOpened', 'Account.Opened2', 'aab', 'x', 'c', 'Account.Opene']) {
      expect(regex.test(type), type).toBe(false);
    }
  });

  it('uses a UUID event id as is and derives a stable UUID from any other', () => {
    const uuid = randomUUID();
    expect(toEventId(uuid)).toBe(uuid);
    const derived = toEventId('deposit-42#1');
    expect(derived).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(toEventId('deposit-42#1')).toBe(derived);
    expect(toEventId('deposit-42#2')).not.toBe(derived);
  });

  it('treats $-prefixed types and streams as system events', () => {
    expect(isSystem('$metadata', 'account-1')).toBe(true);
    expect(isSystem('Opened', '$$account-1')).toBe(true);
    expect(isSystem('Opened', 'account-$1')).toBe(false);
  });
});
