import type { Logger } from '../../infra/logger.js';
import type { ReadStore } from '../../infra/read-store/read-store.js';
import { newInstanceId } from '../../projections/engine/collections.js';
import { holdLease, leaseStore } from '../../projections/engine/lease.js';
import type { TransferProcessLease } from './transfer-process.js';

/**
 * The transfer process's lease, held in the read store the same way each projection's is
 * (projections/engine/lease.ts): every projector replica may start the transfer process, and only
 * the holder drives transfers; the others stand by and take over within `ttlMs` of it stopping or
 * dying. Without a lease two instances could judge one transfer's deadline while the other is
 * mid-deposit, and refund money that has also arrived.
 */
export const readStoreLease = (
  readStore: ReadStore,
  {
    name = 'transfer-process',
    ttlMs,
    logger,
    owner = newInstanceId('transfer-process'),
  }: {
    name?: string;
    ttlMs: number;
    logger: Logger;
    owner?: string;
  },
): TransferProcessLease => {
  const leases = leaseStore(readStore);
  const log = logger.child({ lease: name, owner });
  return async (signal) => {
    const held = await holdLease({ leases, projection: name, owner, ttlMs, logger: log, signal });
    if (!held) return undefined;
    log.info({ epoch: held.epoch }, 'transfer process lease taken');
    return { lost: held.lost, release: () => held.release() };
  };
};
