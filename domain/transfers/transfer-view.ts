import { z } from 'zod';
import { AccountId } from '../accounts/account.js';
import { TransferFailureReason, TransferId } from './transfer.js';

/**
 * What the API answers about a transfer, from the read model (GET /transfers/:id) or from the
 * transfer's own stream (POST /transfers with Prefer: wait): one shape. It lives with the domain
 * because both sides answer with it and commands/ may not import read-api/.
 */
export const TransferStatus = z
  .enum(['pending', 'completed', 'failed'])
  .describe('pending until the money has moved (completed) or the transfer has given up (failed)');

export const TransferView = z
  .object({
    transferId: TransferId,
    fromAccountId: AccountId,
    toAccountId: AccountId,
    amount: z.number().int().positive().describe('In minor units (cents, pence…)'),
    requestedBy: z.string().describe('The subject that asked for it; only it (or an admin) may read it'),
    status: TransferStatus,
    reason: TransferFailureReason.optional().describe(
      'Why it failed. A failed transfer has refunded whatever it took from the source (if the source ' +
        'refused the refund, having closed meanwhile, that is logged as an error for a person to settle).',
    ),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Transfer' });
export type TransferView = z.infer<typeof TransferView>;
