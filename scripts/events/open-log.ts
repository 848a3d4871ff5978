import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { scanForCorrelation } from '../../infra/event-store/correlation-scan.js';
import {
  createEventStore,
  EVENTS_FILE,
  type EventStoreConfig,
} from '../../infra/event-store/create-event-store.js';
import type { EventStore } from '../../infra/event-store/event-store.js';
import {
  type CorrelatedEvents,
  sqliteEventsByCorrelation,
} from '../../infra/event-store/sqlite-correlation.js';
import { createSqliteEventStore } from '../../infra/event-store/sqlite-event-store.js';

/** The configured event log, opened for reading by the inspector's commands. */
export type Log = {
  store: EventStore;
  /** What it is, for the messages: "the embedded event store data/events.sqlite". */
  name: string;
  /** Every event written under one correlation id, in position order. */
  byCorrelation(correlationId: string, onProgress?: (scanned: number) => void): Promise<CorrelatedEvents>;
  close(): Promise<void>;
};

/** DATA_DIR holds no event log: nothing to read (and the inspector creates none). */
export class NoLogError extends Error {
  override readonly name = 'NoLogError';
}

/**
 * EventStoreDB when EVENTSTORE_URL is set, else the embedded store, opened read-only so the
 * inspector may run beside the app and never changes or creates a file. Correlation ids are found
 * through the SQLite index, or by reading the whole of `$all` on EventStoreDB (see
 * correlation-scan.ts for why not its `$bc-` projection).
 */
export const openLog = async (config: EventStoreConfig): Promise<Log> => {
  if (config.EVENTSTORE_URL) {
    const store = await createEventStore(config);
    return {
      store,
      name: `EventStoreDB at ${withoutCredentials(config.EVENTSTORE_URL)}`,
      byCorrelation: (correlationId, onProgress) => scanForCorrelation(store, correlationId, { onProgress }),
      close: () => store.close(),
    };
  }
  const file = join(config.DATA_DIR, EVENTS_FILE);
  if (!existsSync(file)) throw new NoLogError(`no event log at ${file} (DATA_DIR=${config.DATA_DIR})`);
  const store = createSqliteEventStore({ file, readonly: true });
  return {
    store,
    name: `the embedded event store ${file}`,
    byCorrelation: async (correlationId) => sqliteEventsByCorrelation(file, correlationId),
    close: () => store.close(),
  };
};

/** A connection string may carry a password; it has no place on a terminal or in a ticket. */
const withoutCredentials = (url: string) => url.replace(/\/\/[^/@]*@/, '//***@');
