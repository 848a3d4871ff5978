import { describe, expect, it } from 'vitest';
import { eventStoreContract } from './event-store.contract.js';
import { createMemoryEventStore, type MemoryEventStore } from './memory-event-store.js';

eventStoreContract('memory', createMemoryEventStore, {
  freshStore: true,
  damage: (store, streamId, revision) => (store as MemoryEventStore).damage(streamId, revision),
  without: { setStreamMaxAge: 'it deletes expired streams itself (expireStreams)' },
});

describe('memory event store', () => {
  it('an append with an event it cannot copy writes none of its events', async () => {
    const store = createMemoryEventStore();
    const event = (data: unknown) => ({
      type: 'Noted',
      data,
      metadata: { eventId: 'e', correlationId: 'c', causationId: 'c', occurredAt: '', schemaVersion: 1 },
    });
    await expect(
      store.append('a', [event({ ok: true }), event({ notData: () => {} })], {
        expectedRevision: 'no_stream',
      }),
    ).rejects.toThrow();
    expect(await store.readAll()).toEqual([]);
    expect(await store.headPosition()).toBeUndefined();
  });
});
