import { join } from 'node:path';
import type { EventStore } from './event-store.js';
import { createSqliteEventStore, type SqliteSynchronous } from './sqlite-event-store.js';

export type EventStoreConfig = {
  /** Set: EventStoreDB at this URL. Unset: the embedded SQLite store in DATA_DIR/events.sqlite. */
  EVENTSTORE_URL?: string;
  DATA_DIR: string;
  /** The embedded store's durability; see SqliteSynchronous. Default 'full'. */
  SQLITE_SYNCHRONOUS?: SqliteSynchronous;
};

/**
 * The event store the configuration asks for. The EventStoreDB client is imported only when it is
 * used: loading it (and gRPC) costs about a tenth of a second that the embedded mode does not need.
 */
export const createEventStore = async (config: EventStoreConfig): Promise<EventStore> => {
  if (config.EVENTSTORE_URL) {
    const { createEventStoreDbEventStore } = await import('./eventstoredb-event-store.js');
    return createEventStoreDbEventStore(config.EVENTSTORE_URL);
  }
  return createSqliteEventStore({
    file: join(config.DATA_DIR, 'events.sqlite'),
    synchronous: config.SQLITE_SYNCHRONOUS,
  });
};
