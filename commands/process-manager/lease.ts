import type { Logger } from '../../infra/logger.js';
import type { ReadStore } from '../../infra/read-store/read-store.js';
import { newInstanceId } from '../../projections/engine/collections.js';
import { holdLease, leaseStore } from '../../projections/engine/lease.js';

/**
 * The right to drive a process manager, held by one instance at a time. Resolves once held, with
 * a signal that aborts when it is lost (the holder must stop driving then); resolves undefined
 * when `signal` aborts first.
 */
export type ProcessManagerLease = (signal: AbortSignal) => Promise<
  | {
      /** Aborts when the lease is lost: this instance must stop driving the process. */
      lost: AbortSignal;
      release(): Promise<void>;
    }
  | undefined
>;

/**
 * A process manager's lease, held in the read store the same way each projection's is
 * (projections/engine/lease.ts): every instance may start the process manager, and only the
 * holder drives it; the others stand by and take over within `ttlMs` of it stopping or dying.
 * Without a lease two instances could decide for the same key at once (a deadline judged by one
 * while the other is mid-step).
 */
export const readStoreLease = (
  readStore: ReadStore,
  {
    name,
    ttlMs,
    logger,
    owner = newInstanceId(name),
  }: {
    /** The lease's name: the process manager's. */
    name: string;
    ttlMs: number;
    logger: Logger;
    owner?: string;
  },
): ProcessManagerLease => {
  const leases = leaseStore(readStore);
  const log = logger.child({ lease: name, owner });
  return async (signal) => {
    const held = await holdLease({ leases, projection: name, owner, ttlMs, logger: log, signal });
    if (!held) return undefined;
    log.info({ epoch: held.epoch }, 'process manager lease taken');
    return { lost: held.lost, release: () => held.release() };
  };
};
