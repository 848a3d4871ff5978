import type { Position } from '../../infra/event-store/event-store.js';

/**
 * The checkpoint of a consumer that handles events concurrently and finishes them out of order:
 * it moves to the last position before which every delivered event is done, so it never passes an
 * event still in hand, however many later ones have finished (the "never skip a gap" rule).
 */
export const createCommitTracker = (start: Position | undefined) => {
  // Delivered (and scanned) positions in order; `head` is the first one not yet behind the checkpoint.
  type Entry = { position: Position; done: boolean; delivered: boolean };
  const queue: Entry[] = [];
  const byPosition = new Map<Position, Entry>();
  let head = 0;
  let committed = start;
  let handled: Position | undefined;

  const settle = () => {
    while (head < queue.length && queue[head]?.done) {
      const entry = queue[head++] as Entry;
      committed = entry.position;
      if (entry.delivered) handled = entry.position;
      byPosition.delete(entry.position);
    }
    // Drop the finished prefix once it is worth the copy.
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
  };

  return {
    /** An event came in; positions arrive in increasing order. */
    delivered(position: Position): void {
      const entry = { position, done: false, delivered: true };
      queue.push(entry);
      byPosition.set(position, entry);
    },

    /** An event is done with: the checkpoint may pass it. */
    done(position: Position): void {
      const entry = byPosition.get(position);
      if (!entry) return;
      entry.done = true;
      settle();
    },

    /** The subscription has looked at everything up to here (events it filtered out included). */
    scanned(position: Position): void {
      if (committed !== undefined && position <= committed) return;
      const last = queue.at(-1);
      if (last && position <= last.position) return;
      queue.push({ position, done: true, delivered: false });
      settle();
    },

    /** Events delivered that the checkpoint has not passed yet (done or not): what memory holds. */
    get pending(): number {
      return byPosition.size;
    },

    get position(): Position | undefined {
      return committed;
    },

    /**
     * The last delivered event the checkpoint has passed (undefined until one has): the checkpoint
     * moved because of work done at or after this, not merely because the subscription scanned on.
     */
    get handled(): Position | undefined {
      return handled;
    },
  };
};

export type CommitTracker = ReturnType<typeof createCommitTracker>;
