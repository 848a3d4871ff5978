/**
 * A position in `$all` as the server compares them (its TFPos): commit position first, then prepare
 * position. Plain numbers: an in-memory log never gets near 2^53 bytes.
 */
export type LogPosition = { readonly commit: number; readonly prepare: number };

export const comparePositions = (a: LogPosition, b: LogPosition): number =>
  a.commit - b.commit || a.prepare - b.prepare;

export const isBefore = (a: LogPosition, b: LogPosition): boolean => comparePositions(a, b) < 0;

export const isAtOrBefore = (a: LogPosition, b: LogPosition): boolean => comparePositions(a, b) <= 0;

/** The server's "no position yet" (TFPos.HeadOfTf): before everything; it never sends it as a checkpoint. */
export const HEAD_OF_LOG: LogPosition = { commit: -1, prepare: -1 };

/** The server's TFPos.FirstRecordOfTf. */
export const FIRST_RECORD: LogPosition = { commit: 0, prepare: 0 };

/** ulong.MaxValue on the wire: what the server sends where it does not know a position. */
export const UNKNOWN_POSITION = '18446744073709551615';
