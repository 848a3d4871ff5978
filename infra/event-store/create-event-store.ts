import { join } from 'node:path';
import type { EventStore } from './event-store.js';
import { createEventStoreDbEventStore } from './eventstoredb-event-store.js';
import { createSqliteEventStore, type SqliteSynchronous } from './sqlite-event-store.js';

export type EventStoreConfig = {
  /** Set: EventStoreDB at this URL. Unset: the embedded SQLite store in DATA_DIR/events.sqlite. */
  EVENTSTORE_URL?: string;
  DATA_DIR: string;
  /** The embedded store's durability; see SqliteSynchronous. Default 'full'. */
  SQLITE_SYNCHRONOUS?: SqliteSynchronous;
};

/** The event store the configuration asks for. */
export const createEventStore = (config: EventStoreConfig): EventStore =>
  config.EVENTSTORE_URL
    ? createEventStoreDbEventStore(config.EVENTSTORE_URL)
    : createSqliteEventStore({
        file: join(config.DATA_DIR, 'events.sqlite'),
        synchronous: config.SQLITE_SYNCHRONOUS,
      });
