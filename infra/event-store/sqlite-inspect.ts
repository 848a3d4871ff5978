import { existsSync, statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { hasChecksumColumn, hasTable, openEventsDatabaseReadOnly, storeIdOf } from './sqlite-database.js';
import { type Marker, MarkerUnreadableError, readMarker } from './store-marker.js';

export type EventsFileInspection = {
  file: string;
  /** Problems with the file as a whole: missing where history was expected, unreadable, SQLite's integrity_check findings, a history marker it does not match. Empty: none. */
  problems: string[];
  /** What was checked and found sound, for the report. */
  checked: string[];
  /** False: there is no event log (and none was expected); nothing more to verify. */
  exists: boolean;
  /** False: written before checksums (the app adds them at its next start); its events are read unchecked. */
  checksums: boolean;
};

/**
 * The checks of an embedded events file that only make sense for SQLite, without changing it (it is
 * opened read-only, so this works while the app runs): `PRAGMA integrity_check` (the whole file:
 * pages, records, indexes against their table) and the DATA_DIR history marker. The events
 * themselves are checked by reading them (verify-store.ts).
 */
export const inspectEventsFile = (file: string, markerFile: string): EventsFileInspection => {
  const result: EventsFileInspection = { file, problems: [], checked: [], exists: false, checksums: true };
  let marker: Marker | undefined;
  try {
    marker = readMarker(markerFile);
  } catch (error) {
    if (!(error instanceof MarkerUnreadableError)) throw error;
    result.problems.push(error.message);
  }
  const expected = marker ? BigInt(marker.lastPosition) : 0n;
  if (!existsSync(file) || statSync(file).size === 0) {
    if (expected > 0n)
      result.problems.push(
        `${file} is ${existsSync(file) ? 'empty (0 bytes)' : 'missing'}, but ${markerFile} says it held at least ${expected} events`,
      );
    return result;
  }
  result.exists = true;

  let db: Database.Database;
  try {
    db = openEventsDatabaseReadOnly(file);
  } catch (error) {
    result.problems.push(`${file} cannot be opened: ${(error as Error).message}`);
    return { ...result, exists: false };
  }
  try {
    const findings = (db.prepare('PRAGMA integrity_check').pluck().all() as string[])
      .join('\n')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('*** '));
    if (findings.length === 1 && findings[0] === 'ok') result.checked.push('SQLite integrity_check: ok');
    else result.problems.push(...findings.map((line) => `SQLite integrity_check: ${line}`));
    if (!hasTable(db, 'events')) {
      result.problems.push(`${file} has no events table: it is not an event log`);
      return { ...result, exists: false };
    }
    result.checksums = hasChecksumColumn(db);
    const head = BigInt((db.prepare('SELECT MAX(position) FROM events').pluck().get() as number | null) ?? 0);
    const storeId = storeIdOf(db);
    if (marker && expected > 0n && storeId !== undefined && storeId !== marker.storeId)
      result.problems.push(
        `${file} is another store (id ${storeId}) than ${markerFile} names (id ${marker.storeId})`,
      );
    else if (head < expected)
      result.problems.push(
        `${file} holds events up to position ${head} only, but ${markerFile} says it held at least ${expected}: history was lost`,
      );
    else if (marker)
      result.checked.push(`history marker: ${head} events there, at least ${expected} expected`);
  } catch (error) {
    result.problems.push(`${file} cannot be read: ${(error as Error).message}`);
    return { ...result, exists: false };
  } finally {
    db.close();
  }
  return result;
};
