import type { Position } from '../../infra/event-store/event-store.js';
import { backoffDelayMs, sleep } from '../../infra/retry/backoff.js';

/**
 * Resolves true once `projection` has processed every event up to `position` (its checkpoint is at
 * or past it), false when `timeoutMs` passes or `signal` aborts first. Same shape as the read
 * API's `WaitForCheckpoint`.
 */
export type WaitForCheckpoint = (
  projection: string,
  position: Position,
  options: { timeoutMs: number; signal?: AbortSignal },
) => Promise<boolean>;

export type CheckpointListener = (projection: string, position: Position) => void;

export type CheckpointWatchOptions = {
  /**
   * Where to look when this process is not the one projecting (another instance holds the lease):
   * while someone waits, the stored checkpoint is read, first after minDelayMs, then less often.
   */
  poll?: {
    read: (projection: string) => Promise<Position | undefined>;
    /** Whether to poll for this projection now; in-process advances cover the rest. */
    when: (projection: string) => boolean;
    minDelayMs?: number;
    maxDelayMs?: number;
  };
  /**
   * The last position up to which the log after `after` holds nothing `projection` reads (undefined:
   * not known). A filtered subscription reports progress past events it skips only now and then
   * (EventStoreDB: every 32 events looked at), so on a quiet system a wait for a position the
   * projection skips would otherwise last until its deadline. Asked while someone waits.
   */
  skippable?: (projection: string, after: Position | undefined) => Promise<Position | undefined>;
  /** A failed poll, or a listener that threw: neither may stop a projector or a wait. */
  onError?: (error: unknown) => void;
};

type Waiter = { position: Position; settle: (reached: boolean) => void };

/**
 * The committed checkpoints of this process's projectors, as they advance: read-your-writes waits
 * on them without a round trip to the read store. Checkpoints only move forward here.
 */
export const createCheckpointWatch = ({ poll, skippable, onError }: CheckpointWatchOptions = {}) => {
  const latest = new Map<string, Position>();
  const listeners = new Set<CheckpointListener>();
  const waiters = new Map<string, Set<Waiter>>();
  const polling = new Set<string>();

  const reached = (projection: string, position: Position) => {
    const at = latest.get(projection);
    return at !== undefined && at >= position;
  };
  const waiting = (projection: string) => (waiters.get(projection)?.size ?? 0) > 0;

  const advance = (projection: string, position: Position): void => {
    if (reached(projection, position)) return;
    latest.set(projection, position);
    for (const waiter of waiters.get(projection) ?? []) if (position >= waiter.position) waiter.settle(true);
    for (const listener of listeners) {
      try {
        listener(projection, position);
      } catch (error) {
        onError?.(error);
      }
    }
  };

  /** Settles the waiters at or before `position` without moving the checkpoint: nothing they wait for is there. */
  const release = (projection: string, position: Position) => {
    for (const waiter of waiters.get(projection) ?? []) if (waiter.position <= position) waiter.settle(true);
  };

  const startPolling = (projection: string) => {
    if ((!poll && !skippable) || polling.has(projection)) return;
    polling.add(projection);
    const { minDelayMs = 5, maxDelayMs = 100 } = poll ?? {};
    void (async () => {
      const backoff = { baseMs: minDelayMs, maxMs: maxDelayMs, jitter: 'none' } as const;
      try {
        for (let round = 1; waiting(projection); round++) {
          // ref: false, so a pending poll never keeps the process alive on its own.
          await sleep(backoffDelayMs(round, backoff), undefined, { ref: false });
          try {
            if (poll && waiting(projection) && poll.when(projection)) {
              const position = await poll.read(projection);
              if (position !== undefined) advance(projection, position);
            }
            if (skippable && waiting(projection)) {
              const clear = await skippable(projection, latest.get(projection));
              if (clear !== undefined) release(projection, clear);
            }
          } catch (error) {
            onError?.(error); // the store may be briefly away: each waiter still has its deadline
          }
        }
      } finally {
        polling.delete(projection);
      }
    })();
  };

  const waitFor: WaitForCheckpoint = (projection, position, { timeoutMs, signal }) => {
    if (reached(projection, position)) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      let set = waiters.get(projection);
      if (!set) {
        set = new Set();
        waiters.set(projection, set);
      }
      const own = set;
      let settled = false;
      const waiter: Waiter = {
        position,
        settle: (ok) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          own.delete(waiter);
          if (own.size === 0 && waiters.get(projection) === own) waiters.delete(projection);
          resolve(ok);
        },
      };
      const onAbort = () => waiter.settle(false);
      const timer = setTimeout(() => waiter.settle(false), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      own.add(waiter);
      startPolling(projection);
    });
  };

  return {
    /** The last checkpoint committed (or read) for `projection` in this process. */
    latest: (projection: string): Position | undefined => latest.get(projection),
    advance,
    /** Calls `listener` on every advance; returns the function that unsubscribes it. */
    onAdvance(listener: CheckpointListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitFor,
  };
};

export type CheckpointWatch = ReturnType<typeof createCheckpointWatch>;
