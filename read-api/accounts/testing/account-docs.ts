import {
  ACCOUNT_TRANSACTIONS,
  type AccountTransactionDocument,
} from '../../../projections/accounts/account-transactions-projection.js';
import { ACCOUNTS, type AccountDocument } from '../../../projections/accounts/accounts-projection.js';
import type { Harness } from '../../testing/read-api-harness.js';

/** Account read-model documents as the projections write them, for the account routes' tests. */
export const accountDoc = (accountId: string, fields: Partial<AccountDocument> = {}): AccountDocument => ({
  _id: accountId,
  accountId,
  owner: 'Ada',
  ownerId: 'ada',
  currency: 'EUR',
  balance: 0,
  status: 'open',
  revision: 0,
  openedAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...fields,
});

export const transactionDoc = (
  accountId: string,
  revision: number,
  fields: Partial<AccountTransactionDocument> = {},
): AccountTransactionDocument => ({
  _id: `${accountId}:${revision}`,
  accountId,
  revision,
  kind: 'deposit',
  amount: 10,
  balanceBefore: 10 * (revision - 1),
  balanceAfter: 10 * revision,
  reference: `ref-${revision}`,
  at: '2026-01-02T00:00:00.000Z',
  ...fields,
});

/** Seeds the `accounts` read model. */
export const seedAccounts = (harness: Harness, docs: AccountDocument[]) => harness.seed(ACCOUNTS, docs);

/** Seeds the `account_transactions` read model. */
export const seedTransactions = (harness: Harness, docs: AccountTransactionDocument[]) =>
  harness.seed(ACCOUNT_TRANSACTIONS, docs);
