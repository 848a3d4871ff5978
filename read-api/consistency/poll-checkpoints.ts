import { positionFromJson } from '../../infra/event-store/event-store.js';
import type { Document, ReadStore } from '../../infra/read-store/read-store.js';
import type { WaitForCheckpoint } from './wait-for-checkpoint.js';

export type CheckpointDocument = Document & { position: string };

type Waiter = { position: bigint; settle: (reached: boolean) => void };

type Watch = {
  /** The highest checkpoint seen: checkpoints only move forward, so a wait at or below it is over. */
  seen: bigint | undefined;
  waiters: Set<Waiter>;
  polling: boolean;
};

export type PollCheckpointsOptions = {
  collection?: string;
  /** First pause between reads; it doubles while waiters remain, up to maxDelayMs. */
  minDelayMs?: number;
  maxDelayMs?: number;
  onError?: (error: unknown) => void;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits on checkpoints by reading them from the read store, for a read API in another process than
 * the projector. One poll loop per projection serves every waiting request, so a burst of
 * x-min-position reads costs a few checkpoint reads, not one loop each.
 */
export const pollCheckpoints = (
  readStore: ReadStore,
  { collection = 'checkpoints', minDelayMs = 5, maxDelayMs = 100, onError }: PollCheckpointsOptions = {},
): WaitForCheckpoint => {
  const checkpoints = readStore.collection<CheckpointDocument>(collection);
  const watches = new Map<string, Watch>();

  const poll = async (projection: string, watch: Watch) => {
    let delay = minDelayMs;
    while (watch.waiters.size > 0) {
      try {
        const doc = await checkpoints.findOne({ _id: projection });
        const position = doc ? positionFromJson(String(doc.position)) : undefined;
        if (position !== undefined && (watch.seen === undefined || position > watch.seen))
          watch.seen = position;
      } catch (error) {
        // The store may be briefly away: keep trying until each waiter's own deadline.
        onError?.(error);
      }
      for (const waiter of watch.waiters)
        if (watch.seen !== undefined && watch.seen >= waiter.position) waiter.settle(true);
      if (watch.waiters.size === 0) break;
      await sleep(delay);
      delay = Math.min(delay * 2, maxDelayMs);
    }
    watch.polling = false;
  };

  return (projection, position, { timeoutMs, signal }) => {
    let watch = watches.get(projection);
    if (!watch) {
      watch = { seen: undefined, waiters: new Set(), polling: false };
      watches.set(projection, watch);
    }
    if (watch.seen !== undefined && watch.seen >= position) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);

    const current = watch;
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        position,
        settle: (reached) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', abandon);
          current.waiters.delete(waiter);
          resolve(reached);
        },
      };
      const abandon = () => waiter.settle(false);
      const timer = setTimeout(abandon, timeoutMs);
      signal?.addEventListener('abort', abandon, { once: true });
      current.waiters.add(waiter);
      if (!current.polling) {
        current.polling = true;
        void poll(projection, current);
      }
    });
  };
};
