import { CorruptEventError, type RecordedEvent } from './event-store.js';
import {
  COLUMNS,
  COLUMNS_WITHOUT_CHECKSUM,
  CORRELATION_ID,
  hasChecksumColumn,
  openEventsDatabaseReadOnly,
  type Row,
  toRecorded,
} from './sqlite-database.js';

export type CorrelatedEvents = {
  /** In position order. */
  events: RecordedEvent[];
  /** Events that could not be read back as written: they may belong to the correlation or not. */
  damaged: CorruptEventError[];
};

/**
 * Every event of an embedded store written under one correlation id, through the correlation index
 * (sqlite-database.ts). The file is opened read-only, so this may run while the app writes; a file
 * last opened by a version without the index is scanned instead (the app adds the index when it
 * next starts). A damaged row is reported, not thrown: the rest of the trace is still worth seeing.
 */
export const sqliteEventsByCorrelation = (file: string, correlationId: string): CorrelatedEvents => {
  const db = openEventsDatabaseReadOnly(file);
  try {
    const columns = hasChecksumColumn(db) ? COLUMNS : COLUMNS_WITHOUT_CHECKSUM;
    const rows = db
      .prepare<[string], Row>(`SELECT ${columns} FROM events WHERE ${CORRELATION_ID} = ? ORDER BY position`)
      .all(correlationId);
    const events: RecordedEvent[] = [];
    const damaged: CorruptEventError[] = [];
    for (const row of rows) {
      try {
        events.push(toRecorded(row));
      } catch (error) {
        if (!(error instanceof CorruptEventError)) throw error;
        damaged.push(error);
      }
    }
    return { events, damaged };
  } finally {
    db.close();
  }
};
