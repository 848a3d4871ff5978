import { createBoundedLru } from '../../infra/cache/bounded-lru.js';
import type { Position } from '../../infra/event-store/event-store.js';
import type { SnapshotFacts } from './snapshots.js';

/**
 * What the command pipeline knows of one stream without reading it again: the state its events
 * fold into up to `revision`, and the idempotency keys its events carry.
 *
 * Invariant: `state` is the fold of exactly the events 0..`revision` (parsed as a read parses them).
 * An entry is only ever made from a read of the whole stream, or from a stored snapshot whose
 * event the stream still holds (snapshots.ts), and moved on by the events read after it or
 * appended after it with the expected revision it names, so the invariant holds by construction. Whatever the entry says, a decision made on it is appended with `revision` as the
 * expected revision: if the stream has moved on (another process, a script), the append fails and
 * the pipeline reads what is new. A stale entry costs a retry, never a wrong decision.
 */
export type StreamSnapshot<State = unknown> = {
  /** Revision of the last event folded in. */
  readonly revision: number;
  /** Position of that event. */
  readonly position: Position;
  /** Deep-frozen: deciders get it as is and must not change it (they return new states). */
  readonly state: State;
  readonly keys: KeyIndex;
} & SnapshotFacts;

/**
 * Every idempotency key in a stream, with the revision of the last event that carries it. It is
 * complete from revision 0 (or from `keysFrom`, after a stored snapshot whose key filter answers
 * for the events before) up to the revision of any entry that holds it, because it starts from
 * a read of the whole stream (or of all after the snapshot) and learns each event read or appended
 * after that. Snapshots of one
 * stream share one index, which only learns facts (event r carries key k), so sharing it is safe:
 * it may know events beyond a snapshot's revision, and those events exist.
 */
export type KeyIndex = Map<string, number>;

export type StateCache = {
  get(streamId: string): StreamSnapshot | undefined;
  /** Keeps `snapshot` unless the cache holds one at the same or a later revision. */
  offer(streamId: string, snapshot: StreamSnapshot): void;
  delete(streamId: string): void;
  readonly size: number;
};

/** Idempotency keys the cache holds on average per stream before it evicts streams to make room. */
export const KEYS_PER_STREAM = 64;

/**
 * A bounded state cache: at most `maxStreams` streams, least recently used evicted first, and at
 * most `maxStreams × KEYS_PER_STREAM` idempotency keys in all (a stream with more keys than that is
 * not kept: its commands read the whole stream, as without a cache). 0 streams: a cache that holds
 * nothing, so every command reads the whole stream.
 */
export const createStateCache = (maxStreams: number): StateCache => {
  if (maxStreams <= 0) return noStateCache;
  const lru = createBoundedLru<StreamSnapshot>({
    maxEntries: maxStreams,
    maxWeight: maxStreams * KEYS_PER_STREAM,
    // A key filter weighs what as many keys would (a key of some 64 bytes).
    weigh: (snapshot) =>
      1 + snapshot.keys.size + Math.ceil((snapshot.keyFilter?.filter.bits.length ?? 0) / 64),
  });
  return {
    get: (streamId) => lru.get(streamId),
    offer(streamId, snapshot) {
      const held = lru.peek(streamId);
      if (held && held.revision >= snapshot.revision) return;
      deepFreeze(snapshot.state);
      // An entry heavier than the whole budget is not kept: the stream is read in full instead.
      lru.set(streamId, snapshot);
    },
    delete: (streamId) => lru.delete(streamId),
    get size() {
      return lru.size;
    },
  };
};

const noStateCache: StateCache = {
  get: () => undefined,
  offer: () => {},
  delete: () => {},
  size: 0,
};

/**
 * Freezes a state and everything reachable from it through plain objects and arrays, stopping at
 * what is frozen already (the parts a new state shares with the one it came from). A decider that
 * mutates a cached state then throws a TypeError (ES modules are strict) instead of changing what
 * the next command decides on. Maps and Sets cannot be frozen: a state holding them must be
 * treated as immutable by convention, and typed arrays are left as they are.
 */
export const deepFreeze = (value: unknown): void => {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value))
    return;
  Object.freeze(value);
  for (const property of Object.values(value)) deepFreeze(property);
};
