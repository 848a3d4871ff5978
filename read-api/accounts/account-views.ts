import { z } from 'zod';
import { AccountId } from '../../domain/accounts/account.js';
import { pageOf, pageQuery } from '../http/page.js';

// What the read API answers with: the read-model documents minus their storage keys. Parsing a
// cache entry with these schemas also drops whatever else the entry may carry.
export const AccountView = z
  .object({
    accountId: AccountId,
    owner: z.string(),
    ownerId: z.string().describe('The subject that opened the account; only it (or an admin) may read it'),
    currency: z.string(),
    balance: z.number().int().describe('In minor units (cents, pence…)'),
    status: z.enum(['open', 'closed']),
    revision: z.number().int().nonnegative().describe('Revision of the account stream this view reflects'),
    openedAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Account' });
export type AccountView = z.infer<typeof AccountView>;

export const TransactionView = z
  .object({
    revision: z.number().int().nonnegative(),
    kind: z.enum(['deposit', 'withdrawal']),
    amount: z.number().int().positive(),
    balanceBefore: z.number().int().nonnegative().describe('The balance before this transaction'),
    balanceAfter: z.number().int().nonnegative(),
    reference: z.string().nullable(),
    at: z.string(),
  })
  .meta({ id: 'Transaction' });
export type TransactionView = z.infer<typeof TransactionView>;

export const AccountPage = pageOf(AccountView).meta({ id: 'AccountPage' });
export const TransactionPage = pageOf(TransactionView).meta({ id: 'TransactionPage' });

export const AccountParams = z.strictObject({ id: AccountId });

export const ListAccountsQuery = z.strictObject({
  owner: z.string().min(1).max(200).optional().describe('Only accounts of this owner (exact match)'),
  status: z.enum(['open', 'closed']).optional(),
  ...pageQuery,
});

export const ListTransactionsQuery = z.strictObject(pageQuery);

/** GET /accounts/:id takes no query parameters; an unknown one is refused, not ignored. */
export const NoQuery = z.strictObject({});
