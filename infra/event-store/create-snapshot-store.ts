import { join } from 'node:path';
import { EVENTS_FILE, type EventStoreConfig } from './create-event-store.js';
import type { SnapshotStore } from './snapshot-store.js';
import { createSqliteSnapshotStore } from './sqlite-snapshot-store.js';

/**
 * The snapshot store beside the configured event store: EventStoreDB at EVENTSTORE_URL (a client of
 * its own), or the embedded store's SQLite file in DATA_DIR (open the event store first: it checks
 * and prepares the file).
 */
export const createSnapshotStore = async (config: EventStoreConfig): Promise<SnapshotStore> => {
  if (config.EVENTSTORE_URL) {
    const { createEventStoreDbSnapshotStore } = await import('./eventstoredb-snapshot-store.js');
    return createEventStoreDbSnapshotStore(config.EVENTSTORE_URL);
  }
  return createSqliteSnapshotStore({ file: join(config.DATA_DIR, EVENTS_FILE) });
};
