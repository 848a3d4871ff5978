import { join } from 'node:path';
import { lockDataDir } from './data-dir-lock.js';
import type { EventStore } from './event-store.js';
import { createSqliteEventStore, type SqliteSynchronous, type StoreLog } from './sqlite-event-store.js';
import { MARKER_FILE } from './store-marker.js';

export type EventStoreConfig = {
  /** Set: EventStoreDB at this URL. Unset: the embedded SQLite store in DATA_DIR/events.sqlite. */
  EVENTSTORE_URL?: string;
  DATA_DIR: string;
  /** The embedded store's durability; see SqliteSynchronous. Default 'full'. */
  SQLITE_SYNCHRONOUS?: SqliteSynchronous;
};

export type EventStoreUse = {
  /**
   * This process writes the embedded store (the write and projector roles): it takes DATA_DIR for
   * itself (data-dir-lock.ts; a second such process is refused), checks the log before using it and
   * keeps its history marker (sqlite-start-checks.ts). Otherwise (a read-only role, a script) the
   * file is opened alongside whoever owns it. No effect with EVENTSTORE_URL: the log is not in
   * DATA_DIR then, and the embedded read store lives in memory, so nothing there needs one writer.
   */
  exclusive?: boolean;
  log?: StoreLog;
};

export const EVENTS_FILE = 'events.sqlite';

/**
 * The event store the configuration asks for. The EventStoreDB client is imported only when it is
 * used: loading it (and gRPC) costs about a tenth of a second that the embedded mode does not need.
 */
export const createEventStore = async (
  config: EventStoreConfig,
  { exclusive = false, log }: EventStoreUse = {},
): Promise<EventStore> => {
  if (config.EVENTSTORE_URL) {
    const { createEventStoreDbEventStore } = await import('./eventstoredb-event-store.js');
    return createEventStoreDbEventStore(config.EVENTSTORE_URL);
  }
  const file = join(config.DATA_DIR, EVENTS_FILE);
  if (!exclusive) return createSqliteEventStore({ file, synchronous: config.SQLITE_SYNCHRONOUS, log });
  const lock = lockDataDir(config.DATA_DIR);
  let store: EventStore;
  try {
    store = createSqliteEventStore({
      file,
      synchronous: config.SQLITE_SYNCHRONOUS,
      markerFile: join(config.DATA_DIR, MARKER_FILE),
      log,
    });
  } catch (error) {
    lock.release();
    throw error;
  }
  return {
    ...store,
    async close() {
      try {
        await store.close();
      } finally {
        lock.release();
      }
    },
  };
};
