import { z } from 'zod';
import { TransferId } from '../../domain/transfers/transfer.js';

// What the API answers about a transfer: one shape, shared with the write side's Prefer: wait reply.
export { TransferStatus, TransferView } from '../../domain/transfers/transfer-view.js';

export const TransferParams = z.strictObject({ id: TransferId });
