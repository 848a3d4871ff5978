/**
 * Puts each stream's events back in revision order for a consumer that may see them out of order
 * or more than once: competing consumers, retries of a persistent subscription, a replay that
 * overlaps live delivery. Across streams nothing is ordered, and nothing needs to be.
 *
 * For each stream it knows the next revision it expects:
 * - an event below it is stale (already passed on) and is dropped;
 * - the expected event is passed on at once, with every held event that now follows it;
 * - an event past it is held until the gap before it fills.
 *
 * A gap that does not fill is given up, so a lost event cannot stall a stream forever: when the
 * oldest hold of a stream is older than `holdTimeoutMs` (see `expire`), or when more than `maxHeld`
 * events are held in all (the longest-waiting stream gives way). Giving up skips the missing
 * revisions and passes on what was held; the skipped range is reported as a `Gap`, so the consumer
 * can log it, park it, or read those revisions from the event store (`readStream`) itself.
 *
 * Synchronous and free of timers: the owner calls `expire()` when `nextExpiry()` comes round, and
 * the clock is injected, so the behaviour is a pure function of the calls made.
 */
export type Sequenced = { readonly streamId: string; readonly revision: number };

export type ReorderBufferOptions = {
  /**
   * The revision expected first from a stream the buffer has not seen (or has forgotten): for a
   * read model, the revision its document reflects + 1. Default 0, the start of every stream.
   */
  firstRevision?: (streamId: string) => number;
  /** Events held across all streams; past it, the longest-waiting stream gives up its gap. */
  maxHeld: number;
  /** How long a stream's held events wait for the gap before them. */
  holdTimeoutMs: number;
  /**
   * Streams whose next revision is remembered; the least recently used are forgotten past it (never
   * one with held events). A forgotten stream starts again at `firstRevision`.
   */
  maxStreams: number;
  now?: () => number;
};

/** Revisions `from`..`to` (inclusive) of a stream never arrived and were skipped. */
export type Gap = { streamId: string; from: number; to: number; cause: 'timeout' | 'overflow' };

export type Released<E> = {
  /** In revision order within each stream. */
  ready: E[];
  gaps: Gap[];
};

export type Pushed<E> = Released<E> & { dropped?: 'stale' | 'duplicate' };

type Hold<E> = { events: Map<number, E>; since: number };

export type ReorderBuffer<E extends Sequenced> = ReturnType<typeof createReorderBuffer<E>>;

export const createReorderBuffer = <E extends Sequenced>(options: ReorderBufferOptions) => {
  const { maxHeld, holdTimeoutMs, maxStreams, firstRevision = () => 0, now = Date.now } = options;
  if (maxHeld < 0 || maxStreams < 1 || holdTimeoutMs < 0)
    throw new RangeError('invalid reorder buffer bounds');
  // Map order is insertion order: `cursors` re-inserts on use (least recently used first), `holds`
  // inserts when a stream starts waiting (longest-waiting first).
  const cursors = new Map<string, number>();
  const holds = new Map<string, Hold<E>>();
  let heldCount = 0;

  const nextOf = (streamId: string) => cursors.get(streamId) ?? firstRevision(streamId);

  const setNext = (streamId: string, next: number) => {
    cursors.delete(streamId);
    cursors.set(streamId, next);
    if (cursors.size <= maxStreams) return;
    for (const candidate of cursors.keys())
      if (!holds.has(candidate)) {
        cursors.delete(candidate);
        return;
      }
  };

  /** Passes on the held events that follow `next` without a gap. */
  const drain = (streamId: string, next: number, ready: E[]) => {
    const hold = holds.get(streamId);
    while (hold?.events.has(next)) {
      ready.push(hold.events.get(next) as E);
      hold.events.delete(next);
      heldCount--;
      next++;
    }
    setNext(streamId, next);
    if (!hold) return;
    holds.delete(streamId);
    // What is still held waits behind a new gap, and waits from now, at the back of the line.
    if (hold.events.size > 0) holds.set(streamId, { events: hold.events, since: now() });
  };

  const giveUp = (streamId: string, cause: Gap['cause'], released: Released<E>) => {
    const hold = holds.get(streamId);
    if (!hold) return;
    const from = nextOf(streamId);
    const first = Math.min(...hold.events.keys());
    released.gaps.push({ streamId, from, to: first - 1, cause });
    drain(streamId, first, released.ready);
  };

  return {
    push(event: E): Pushed<E> {
      const released: Pushed<E> = { ready: [], gaps: [] };
      const { streamId, revision } = event;
      const next = nextOf(streamId);
      if (revision < next) return { ...released, dropped: 'stale' };
      if (revision === next) {
        released.ready.push(event);
        drain(streamId, next + 1, released.ready);
        return released;
      }
      let hold = holds.get(streamId);
      if (hold?.events.has(revision)) return { ...released, dropped: 'duplicate' };
      if (!hold) {
        hold = { events: new Map(), since: now() };
        holds.set(streamId, hold);
        setNext(streamId, next);
      }
      hold.events.set(revision, event);
      heldCount++;
      while (heldCount > maxHeld) {
        const [oldest] = holds.keys();
        if (oldest === undefined) break;
        giveUp(oldest, 'overflow', released);
      }
      return released;
    },

    /** Gives up every gap that has been waited on for `holdTimeoutMs` or more. */
    expire(): Released<E> {
      const released: Released<E> = { ready: [], gaps: [] };
      const cutoff = now() - holdTimeoutMs;
      for (const [streamId, hold] of [...holds])
        if (hold.since <= cutoff) giveUp(streamId, 'timeout', released);
      return released;
    },

    /** When the next hold times out (for a timer), or undefined when nothing is held. */
    nextExpiry(): number | undefined {
      let earliest: number | undefined;
      for (const hold of holds.values())
        if (earliest === undefined || hold.since < earliest) earliest = hold.since;
      return earliest === undefined ? undefined : earliest + holdTimeoutMs;
    },

    /** The revision expected next from `streamId`. */
    nextRevision: nextOf,

    get held(): number {
      return heldCount;
    },
  };
};
