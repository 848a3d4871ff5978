import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { SnapshotPolicy } from '../../domain/shared/snapshot-policy.js';
import type { Position, RecordedEvent } from '../../infra/event-store/event-store.js';
import type { SnapshotStore } from '../../infra/event-store/snapshot-store.js';
import {
  emptyKeyFilter,
  type KeyFilter,
  KeyFilterJson,
  keyFilterFromJson,
  keyFilterToJson,
  mayHold,
  withKeys,
} from './key-filter.js';
import { snapshotVersion } from './snapshot-version.js';
import type { KeyIndex } from './state-cache.js';

/**
 * Snapshots in the command pipeline (handle-command.ts), for aggregates with a SnapshotPolicy.
 *
 * Taking one. When a command's stream has moved `every` events past the last snapshot this handler
 * stored or loaded, the state it now holds (the fold of events 0..revision, exactly: it was just
 * read or appended with the expected revision) is stored with that revision, the id of the event
 * at it, and a filter of the idempotency keys of events up to it (key-filter.ts). The save is not
 * awaited: a command never waits for it, nor fails because of it.
 *
 * Using one. A command on a stream the handler does not hold loads its snapshot and reads the
 * stream from the snapshot's revision on: the first event read must be the one the snapshot
 * names, by revision and id, or the snapshot is not of this stream's history (a restored backup, a
 * stream deleted and written again) and the stream is read from its start. Only then is anything
 * decided on it. A snapshot that is missing, damaged (its checksum, or a state its schema
 * refuses), of another version, or cannot be loaded (the store away) is read around the same way.
 *
 * Idempotency keys. The events before a snapshot are not read, so a repeated command's key may be
 * among them: a key not found in the events after the snapshot is looked up in the snapshot's
 * filter, and if the filter says "perhaps", the stream is read from its start, as without a
 * snapshot, to find the earlier event or to learn the key is new. The filter never says "no" for
 * a key it holds, so a repeat (a transfer leg run again) is never applied twice.
 */
export type SnapshotOptions = {
  store: SnapshotStore;
  /** Told of a snapshot that could not be loaded, used or stored; the command went on without it. */
  onError?: (error: unknown, streamId: string) => void;
};

/** What the pipeline knows of a stream's snapshots; part of a state cache entry (state-cache.ts). */
export type SnapshotFacts = {
  /** Id of the event at `revision`: what a snapshot records, to know that event again. */
  readonly eventId?: string;
  /**
   * The key index holds every key of the events from this revision on (absent or 0: from the
   * start). Above 0 the state began from a snapshot and `keyFilter` answers for the events before.
   */
  readonly keysFrom?: number;
  /** The keys of the events up to `revision`, once a snapshot was stored or loaded. */
  readonly keyFilter?: { readonly revision: number; readonly filter: KeyFilter };
  /** Revision of the last snapshot this handler stored or loaded for the stream; absent: none. */
  readonly snapshotAt?: number;
};

/** The part of a command's knowledge of its stream that snapshots read and move on. */
type Knowledge<State> = SnapshotFacts & {
  readonly revision: number;
  readonly state: State;
  readonly keys: KeyIndex;
};

/** A state loaded from a snapshot: not to be decided on before `verifiedRead` accepts a read. */
export type FromSnapshot<State> = Knowledge<State> & {
  readonly position: undefined;
  readonly unverified: true;
};

/** The parts of an aggregate snapshots use. */
export type Snapshotted<State> = {
  readonly category: string;
  readonly decider: { readonly evolve: unknown };
  readonly snapshot?: SnapshotPolicy<State>;
};

/** What the pipeline stores; its version is part of the snapshot's (snapshot-version.ts). */
const Payload = z.object({ eventId: z.string().min(1), state: z.unknown(), keys: KeyFilterJson });

export const createSnapshots = (options: SnapshotOptions | undefined) => {
  const failed = (error: unknown, streamId: string) => options?.onError?.(error, streamId);

  return {
    /** The stream's snapshot, or undefined when there is none fit to start from. Never throws. */
    async load<State>(
      aggregate: Snapshotted<State>,
      streamId: string,
    ): Promise<FromSnapshot<State> | undefined> {
      const policy = aggregate.snapshot;
      if (!options || !policy) return undefined;
      try {
        const stored = await options.store.load(streamId);
        if (!stored || stored.version !== snapshotVersion(aggregate, policy)) return undefined;
        const { eventId, state, keys } = Payload.parse(stored.data);
        const { revision } = stored;
        return {
          revision,
          position: undefined,
          state: policy.schema.parse(state),
          keys: new Map(),
          eventId,
          keysFrom: revision + 1,
          keyFilter: { revision, filter: keyFilterFromJson(keys) },
          snapshotAt: revision,
          unverified: true,
        };
      } catch (error) {
        failed(error, streamId);
        return undefined;
      }
    },

    /**
     * After `known` moved on: stores a snapshot if `every` events have passed since the last one,
     * and returns `known` with the facts that follow. Never throws, never waits.
     */
    after<State, K extends Knowledge<State>>(aggregate: Snapshotted<State>, streamId: string, known: K): K {
      const policy = aggregate.snapshot;
      if (!options || !policy || known.eventId === undefined) return known;
      if (known.revision - (known.snapshotAt ?? -1) < Math.max(1, policy.every)) return known;
      try {
        const state = JSON.parse(JSON.stringify(known.state));
        const parsed = policy.schema.safeParse(state);
        if (!parsed.success || !isDeepStrictEqual(parsed.data, known.state))
          throw new Error(
            `${aggregate.category}: the state does not come back the same from JSON and its schema`,
          );
        const filter = keyFilterUpTo(known);
        if (!filter) return known;
        const data = { eventId: known.eventId, state, keys: keyFilterToJson(filter) };
        const version = snapshotVersion(aggregate, policy);
        // After this turn of the event loop: a synchronous store (SQLite) would write inside the command.
        setImmediate(() =>
          options.store
            .save({
              streamId,
              revision: known.revision,
              version,
              data: data satisfies z.input<typeof Payload>,
            })
            .catch((error: unknown) => failed(error, streamId)),
        );
        return { ...known, snapshotAt: known.revision, keyFilter: { revision: known.revision, filter } };
      } catch (error) {
        failed(error, streamId);
        // Not tried again before another `every` events.
        return { ...known, snapshotAt: known.revision };
      }
    },
  };
};

/**
 * The read that follows a load, from the snapshot's revision on: the events after the snapshot and
 * the position of its event, or undefined when the stream does not hold the snapshot's event there.
 */
export const verifiedRead = (
  known: { revision: number; eventId?: string },
  read: readonly RecordedEvent[],
): { tail: RecordedEvent[]; position: Position } | undefined => {
  const [at, ...tail] = read;
  if (!at || at.revision !== known.revision || at.metadata.eventId !== known.eventId) return undefined;
  return { tail, position: at.position };
};

/** True when `key` may be carried by an event before the key index starts (then read the stream whole). */
export const mayHoldEarlier = (known: SnapshotFacts, key: string): boolean => {
  if (!known.keysFrom) return false;
  return known.keyFilter === undefined || mayHold(known.keyFilter.filter, key);
};

/**
 * A filter of the keys of the events up to `known.revision`: the last one and the keys learnt
 * since. One that is full is made again twice the size when the key index holds every key of the
 * stream; otherwise it takes them anyway, answering "perhaps" more often, until a command reads
 * the stream whole (which its "perhaps" leads to) and the next snapshot makes it again.
 */
const keyFilterUpTo = <State>(known: Knowledge<State>): KeyFilter | undefined => {
  const base = known.keyFilter;
  const complete = !known.keysFrom;
  if (!base && !complete) return undefined;
  const since = base?.revision ?? -1;
  const fresh: string[] = [];
  for (const [key, revision] of known.keys)
    if (revision > since && revision <= known.revision) fresh.push(key);
  if (base && (base.filter.count + fresh.length <= base.filter.capacity || !complete))
    return withKeys(base.filter, fresh);
  return withKeys(emptyKeyFilter(2 * known.keys.size), known.keys.keys());
};
