/**
 * The streams a projection may not apply events of, each with the `_id` of its first parked event.
 * Parking is per stream: once an event of a stream parks, every later event of that stream parks
 * behind it, so the read model never shows a stream with a hole in it (an account without its
 * AccountOpened); other streams go on.
 *
 * `load`, when given, reads which streams have parked events (all, or those named), so that a
 * replay from another process (npm run parked -- replay) unblocks a stream without a restart.
 * Without it (a rebuild, which starts over from the first event), only what this run parks counts.
 */
export const blockedStreams = (
  load?: (streamIds?: readonly string[]) => Promise<ReadonlyMap<string, string>>,
) => {
  const streams = new Map<string, string>();
  return {
    /** The `_id` of the parked event `streamId` waits behind; undefined when it is not blocked. */
    parkedAt: (streamId: string): string | undefined => streams.get(streamId),

    /** Keeps the first parked event of a stream: the one its later events wait behind. */
    block(streamId: string, parkedId: string): void {
      if (!streams.has(streamId)) streams.set(streamId, parkedId);
    },

    /**
     * Forgets what it knew of `streamIds` (default: every stream) and reads it again. Called only
     * between batch writes, when every event parked so far is stored.
     */
    async reload(streamIds?: readonly string[]): Promise<void> {
      if (!load) return;
      const found = await load(streamIds);
      if (streamIds === undefined) streams.clear();
      else for (const streamId of streamIds) streams.delete(streamId);
      for (const [streamId, parkedId] of found) streams.set(streamId, parkedId);
    },
  };
};

export type BlockedStreams = ReturnType<typeof blockedStreams>;
