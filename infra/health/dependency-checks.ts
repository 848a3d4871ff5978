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

export const readStoreCheck = (readStore: ReadStore): HealthCheck => ({
  name: 'readStore',
  critical: true,
  async run() {
    await readStore.ping();
    return { status: 'up' };
  },
});

/**
 * Not critical: without the cache, reads go to the read model and the projector's cache refresh
 * is skipped (and counted). Slower, still correct; a cache outage must not take the API down.
 */
export const cacheCheck = (cache: Cache): HealthCheck => ({
  name: 'cache',
  critical: false,
  async run() {
    await cache.ping();
    return { status: 'up' };
  },
});
