import type Database from 'better-sqlite3';
import { CorruptEventError, occurredBefore } from './event-store.js';
import { COLUMNS, type Row, toRecorded } from './sqlite-database.js';

/** Streams looked at per transaction: a few milliseconds of the (synchronous) event loop each. */
const CHUNK = 500;

/**
 * expireStreams on the embedded store (see the port). Whole streams go, so no stream is left with
 * a gap in its revisions (`verify` would report one); the row at the head of the log stays, so
 * SQLite, which gives a new row the highest rowid + 1, never hands out a position twice and the
 * history marker's position is never above the head. Other rows and their checksums are not
 * touched. Freed pages are reused by later appends; the file does not shrink (VACUUM would).
 *
 * Streams are walked in id order through the (stream_id, revision) index, CHUNK at a time, each
 * chunk looked at and deleted in one IMMEDIATE transaction, so nothing is appended to a stream
 * between the look and the delete; the event loop runs between chunks. A stream whose rows do not
 * all pass their checksum is kept, for `verify` to find.
 */
export const sqliteExpireStreams = (db: Database.Database) => {
  // From the prefix up to (not including) the prefix with its last character plus one.
  const streamsIn = db.prepare<
    [string, string, string, number],
    { streamId: string; last: number; latest: string | null }
  >(
    `SELECT stream_id AS streamId, MAX(position) AS last,
       MAX(CASE WHEN json_valid(metadata) THEN json_extract(metadata, '$.occurredAt') END) AS latest
     FROM events WHERE stream_id > ? AND stream_id >= ? AND stream_id < ?
     GROUP BY stream_id ORDER BY stream_id LIMIT ?`,
  );
  const rowsOf = db.prepare<[string], Row>(
    `SELECT ${COLUMNS} FROM events WHERE stream_id = ? ORDER BY revision`,
  );
  const head = db.prepare('SELECT MAX(position) FROM events').pluck();
  const remove = db.prepare('DELETE FROM events WHERE stream_id = ?');

  const expireChunk = db.transaction(
    (prefix: string, after: string, below: string, olderThan: Date, cutoff: string) => {
      const streams = streamsIn.all(after, prefix, below, CHUNK);
      const last = head.get() as number | null;
      let expired = 0;
      for (const { streamId, last: lastOfStream, latest } of streams) {
        // Cheap tests first (ISO 8601 times in UTC compare as text); the rows decide.
        if (!streamId.startsWith(prefix) || lastOfStream === last || latest === null || latest >= cutoff)
          continue;
        if (!rowsOf.all(streamId).every((row) => sound(row, olderThan))) continue;
        remove.run(streamId);
        expired += 1;
      }
      return { expired, next: streams.at(-1)?.streamId, done: streams.length < CHUNK };
    },
  );

  return async (prefix: string, olderThan: Date): Promise<number> => {
    if (prefix === '') throw new Error('expireStreams needs a stream prefix');
    const below = prefixEnd(prefix);
    const cutoff = olderThan.toISOString();
    let expired = 0;
    let after = '';
    for (;;) {
      const chunk = expireChunk.immediate(prefix, after, below, olderThan, cutoff);
      expired += chunk.expired;
      if (chunk.done || chunk.next === undefined) return expired;
      after = chunk.next;
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
};

/** Its checksum matches and it occurred before `olderThan`. */
const sound = (row: Row, olderThan: Date) => {
  try {
    return occurredBefore(toRecorded(row), olderThan);
  } catch (error) {
    if (error instanceof CorruptEventError) return false;
    throw error;
  }
};

/** The least text above every text that starts with `prefix` (SQLite compares UTF-8 bytes: code point order). */
const prefixEnd = (prefix: string) => {
  const points = [...prefix];
  const last = (points.pop() as string).codePointAt(0) as number;
  if (last >= 0xd7ff) throw new Error('expireStreams: a prefix must not end with a character beyond U+D7FE');
  return points.join('') + String.fromCodePoint(last + 1);
};
