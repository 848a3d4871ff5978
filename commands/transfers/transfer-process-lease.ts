import type { Logger } from '../../infra/logger.js';
import type { ReadStore } from '../../infra/read-store/read-store.js';
import { readStoreLease as processManagerLease } from '../process-manager/lease.js';
import type { TransferProcessLease } from './transfer-process.js';

/**
 * The transfer process's lease: the engine's read-store lease (process-manager/lease.ts) under
 * the name `transfer-process`. Every projector replica may start the transfer process; only the
 * holder drives transfers, and another takes over within `ttlMs` of it stopping or dying. Without
 * a lease two instances could judge one transfer's deadline while the other is mid-deposit, and
 * refund money that has also arrived.
 */
export const readStoreLease = (
  readStore: ReadStore,
  options: { name?: string; ttlMs: number; logger: Logger; owner?: string },
): TransferProcessLease => processManagerLease(readStore, { name: 'transfer-process', ...options });
