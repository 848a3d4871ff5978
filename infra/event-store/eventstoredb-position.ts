import type { Position as EsdbPosition } from '@eventstore/db-client';
import type { Position } from './event-store.js';

/**
 * Our one ordered Position for EventStoreDB's pair (commit, prepare): commit in the high 64 bits,
 * prepare in the low 64. `$all` is ordered by commit, then prepare, and so is this number.
 *
 * Both halves are kept because the server needs both back: events written by an old explicit
 * transaction share the commit position of their commit record and differ only in prepare, and a
 * start position the server did not hand out is refused ("Trying to read from an invalid
 * position"). So every position we store is one the server gave us (an event's, an append's, a
 * checkpoint's), decoded back to exactly the pair it was.
 */
const SHIFT = 64n;
const LOW = (1n << SHIFT) - 1n;

export const fromEsdbPosition = ({ commit, prepare }: EsdbPosition): Position => (commit << SHIFT) | prepare;

export const toEsdbPosition = (position: Position): EsdbPosition => ({
  commit: position >> SHIFT,
  prepare: position & LOW,
});
