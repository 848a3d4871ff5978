import type { Document, ReadStore } from '../../infra/read-store/read-store.js';
import type { AccountView, TransactionView } from './account-views.js';

// The documents the account projections write (projections/accounts/), as this side reads them.
export type AccountDocument = Document & AccountView;
export type TransactionDocument = Document &
  Omit<TransactionView, 'reference'> & { accountId: string; reference?: string | null };

export const ACCOUNTS_COLLECTION = 'accounts';
export const TRANSACTIONS_COLLECTION = 'account_transactions';
/** The projections (checkpoint names) behind each read model, for x-min-position. */
export const ACCOUNTS_PROJECTION = 'accounts';
export const TRANSACTIONS_PROJECTION = 'account-transactions';

export const accountCacheKey = (accountId: string) => `account:${accountId}`;

export const toAccountView = (doc: AccountDocument): AccountView => ({
  accountId: doc.accountId,
  owner: doc.owner,
  currency: doc.currency,
  balance: doc.balance,
  status: doc.status,
  revision: doc.revision,
  openedAt: doc.openedAt,
  updatedAt: doc.updatedAt,
});

export const toTransactionView = (doc: TransactionDocument): TransactionView => ({
  revision: doc.revision,
  kind: doc.kind,
  amount: doc.amount,
  balanceAfter: doc.balanceAfter,
  reference: doc.reference ?? null,
  at: doc.at,
});

/**
 * The queries behind the account routes. Each list reads `limit + 1` rows in a total order that an
 * index serves ({owner, _id}, {status, _id}, {accountId, revision}), resuming strictly after the
 * last key of the previous page: so pages never repeat or skip a row that existed throughout.
 */
export const accountReadModel = (readStore: ReadStore) => {
  const accounts = readStore.collection<AccountDocument>(ACCOUNTS_COLLECTION);
  const transactions = readStore.collection<TransactionDocument>(TRANSACTIONS_COLLECTION);
  return {
    findAccount: (accountId: string) => accounts.findOne({ _id: accountId }),

    listAccounts: (query: { owner?: string; status?: string; after?: string; limit: number }) =>
      accounts.find(
        {
          ...(query.owner !== undefined && { owner: query.owner }),
          ...(query.status !== undefined && { status: query.status }),
          ...(query.after !== undefined && { _id: { $gt: query.after } }),
        },
        { sort: { _id: 1 }, limit: query.limit + 1 },
      ),

    listTransactions: (query: { accountId: string; after?: number; limit: number }) =>
      transactions.find(
        {
          accountId: query.accountId,
          ...(query.after !== undefined && { revision: { $gt: query.after } }),
        },
        { sort: { revision: 1 }, limit: query.limit + 1 },
      ),
  };
};

export type AccountReadModel = ReturnType<typeof accountReadModel>;
