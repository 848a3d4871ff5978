import { type CorruptEventError, type EventStore, isCorruptEvent, type Position } from './event-store.js';

export type RevisionGap = {
  streamId: string;
  /** The revision that should have come next (0 for a stream's first event). */
  expected: number;
  found: number;
  position: Position;
};

export type StoreVerification = {
  /** Events read and found sound. */
  events: number;
  streams: number;
  /** Events whose checksum did not match, or whose content could not be read (CorruptEventError). */
  damaged: CorruptEventError[];
  /** Streams whose revisions skip or repeat: an event is missing (deleted) or duplicated. */
  gaps: RevisionGap[];
  /** The head the walk went up to; undefined for an empty store. */
  head: Position | undefined;
  /** Set when the walk could not go on (the file is damaged beyond single events, the server went away). */
  stopped?: { after: Position | undefined; error: Error };
};

/**
 * Reads a whole store through the port, from the first event to the head it has when the walk
 * starts, checking each event as every read does (its checksum: the adapter throws CorruptEventError)
 * and each stream's revisions (0, 1, 2… with no gap). A damaged event is recorded and the walk goes
 * on after it, so one pass lists everything. Works on any adapter; it is a subscription from the
 * start, so the store's own paging applies and the app may keep running meanwhile.
 */
export const verifyEventStore = async (
  store: EventStore,
  { onProgress }: { onProgress?: (verified: StoreVerification) => void } = {},
): Promise<StoreVerification> => {
  const head = await store.headPosition();
  const result: StoreVerification = { events: 0, streams: 0, damaged: [], gaps: [], head };
  if (head === undefined) return result;
  const last = new Map<string, number>();
  const see = (streamId: string, revision: number, position: Position) => {
    const expected = (last.get(streamId) ?? -1) + 1;
    if (revision !== expected) result.gaps.push({ streamId, expected, found: revision, position });
    last.set(streamId, Math.max(revision, last.get(streamId) ?? -1));
    result.streams = last.size;
  };

  let after: Position | undefined;
  while (after === undefined || after < head) {
    const reachedHead = new AbortController();
    try {
      for await (const event of store.subscribeToAll({
        after,
        signal: reachedHead.signal,
        onCheckpoint: (position) => {
          if (position >= head) reachedHead.abort();
        },
      })) {
        if (event.position > head) break;
        see(event.streamId, event.revision, event.position);
        result.events++;
        after = event.position;
        if (result.events % 10_000 === 0) onProgress?.(result);
        if (event.position >= head) break;
      }
      break;
    } catch (error) {
      if (!isCorruptEvent(error)) {
        result.stopped = { after, error: error instanceof Error ? error : new Error(String(error)) };
        break;
      }
      result.damaged.push(error);
      see(error.streamId, error.revision, error.position);
      after = error.position;
    }
  }
  return result;
};
