import type { Cache } from '../cache/cache.js';
import { type EventStore, positionToJson } from '../event-store/event-store.js';
import type { ReadStore } from '../read-store/read-store.js';
import type { HealthCheck } from './readiness.js';

/** The event store answers: reading the head of `$all` is the cheapest call every adapter has. */
export const eventStoreCheck = (eventStore: EventStore): HealthCheck => ({
  name: 'eventStore',
  critical: true,
  async run() {
    const head = await eventStore.headPosition();
    return { status: 'up', detail: { head: head === undefined ? null : positionToJson(head) } };
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
