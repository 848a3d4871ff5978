import type { Cache } from '../cache/cache.js';
import { type EventStore, positionToJson } from '../event-store/event-store.js';
import type { ReadStore } from '../read-store/read-store.js';
import type { HealthCheck } from './readiness.js';

/**
 * For the processes that write events: the event store answers (reading the head of `$all`, the
 * cheapest call every adapter has), and could take a write now, where the adapter can tell without
 * writing (the embedded store: its file, WAL and folder are writable and its write lock can be had;
 * EventStoreDB: answering is the check). Damaged events the store has met (their checksum did not
 * match) make it degraded, and are listed: commands on their streams fail with a 500, every other
 * stream is served, so the process stays in rotation while someone restores them.
 */
export const eventStoreCheck = (eventStore: EventStore): HealthCheck => ({
  name: 'eventStore',
  critical: true,
  async run() {
    const head = await eventStore.headPosition();
    await eventStore.checkWrites?.();
    const damaged = eventStore.damagedEvents?.() ?? [];
    return {
      status: damaged.length > 0 ? 'degraded' : 'up',
      detail: {
        head: head === undefined ? null : positionToJson(head),
        ...(eventStore.checkWrites && { writable: true }),
        ...(damaged.length > 0 && {
          damagedEvents: damaged.map(({ streamId, revision, position, reason }) => ({
            streamId,
            revision,
            position: positionToJson(position),
            reason,
          })),
        }),
      },
    };
  },
});

/**
 * The read store answers; for a process that writes to it (a projector), it takes a write. A
 * MongoDB primary that lost its majority still answers ping while every write waits out
 * MONGO_WRITE_TIMEOUT_MS and fails: `writes` makes the check a small majority write instead, so
 * readiness says what the projector can do. (A read-only process checks with a ping: its reads do
 * not need the majority, and it may hold read-only credentials.)
 */
export const readStoreCheck = (
  readStore: ReadStore,
  { writes = false }: { writes?: boolean } = {},
): HealthCheck => ({
  name: 'readStore',
  critical: true,
  async run() {
    if (!writes) {
      await readStore.ping();
      return { status: 'up' };
    }
    await readStore.checkWrites();
    return { status: 'up', detail: { writes: 'acknowledged' } };
  },
});

/**
 * Critical or not by who asks. For a read API it is not: without the cache, reads go to the read
 * model, slower but correct, and a cache outage must not take the API down. For a projector alone
 * it is: keeping the cache fresh is part of its job (a refresh it misses leaves an entry stale until
 * its TTL), and no traffic depends on its readiness, so saying so costs nothing.
 */
export const cacheCheck = (cache: Cache, { critical }: { critical: boolean }): HealthCheck => ({
  name: 'cache',
  critical,
  async run() {
    await cache.ping();
    return { status: 'up' };
  },
});
