import type { EventStore } from '../../../infra/event-store/event-store.js';

/** One readStream call: where it started, and how many events it returned. */
export type StreamRead = { streamId: string; fromRevision: number; events: number };

/**
 * Wraps a store and records every readStream call, so a test can say how much of a stream a
 * command read. `beforeAppend`, when set, runs ahead of each append (to let another writer in
 * between a command's read and its append).
 */
export const countingReads = (store: EventStore) => {
  const reads: StreamRead[] = [];
  const hooks: { beforeAppend?: (streamId: string) => Promise<void> } = {};
  const counted: EventStore = {
    ...store,
    readStream: async (streamId, options) => {
      const events = await store.readStream(streamId, options);
      reads.push({ streamId, fromRevision: options?.fromRevision ?? 0, events: events.length });
      return events;
    },
    append: async (streamId, events, options) => {
      await hooks.beforeAppend?.(streamId);
      return store.append(streamId, events, options);
    },
  };
  return {
    store: counted,
    /** Every read since the last `take`, and forgets them. */
    take: () => reads.splice(0),
    /** Events returned by every read since the last `take`, and forgets them. */
    eventsRead: () => reads.splice(0).reduce((sum, read) => sum + read.events, 0),
    hooks,
  };
};
