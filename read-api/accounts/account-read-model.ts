import type { ReadStore } from '../../infra/read-store/read-store.js';
import {
  ACCOUNT_TRANSACTIONS,
  type AccountTransactionDocument,
} from '../../projections/accounts/account-transactions-projection.js';
import { ACCOUNTS, type AccountDocument } from '../../projections/accounts/accounts-projection.js';
import type { DocumentViews } from '../views/document-views.js';
import { AccountView, TransactionView } from './account-views.js';

export const toAccountView = (doc: AccountDocument): AccountView => ({
  accountId: doc.accountId,
  owner: doc.owner,
  ownerId: doc.ownerId,
  currency: doc.currency,
  balance: doc.balance,
  status: doc.status,
  revision: doc.revision,
  openedAt: doc.openedAt,
  updatedAt: doc.updatedAt,
});

export const toTransactionView = (doc: AccountTransactionDocument): TransactionView => ({
  revision: doc.revision,
  kind: doc.kind,
  amount: doc.amount,
  balanceBefore: doc.balanceBefore,
  balanceAfter: doc.balanceAfter,
  reference: doc.reference,
  at: doc.at,
});

/** The account routes' views of their documents, checked: an invalid document has none. */
export const accountViews = (views: DocumentViews) => ({
  account: views(ACCOUNTS, AccountView, toAccountView),
  transaction: views(ACCOUNT_TRANSACTIONS, TransactionView, toTransactionView),
});

export type AccountViews = ReturnType<typeof accountViews>;

// The documents, collection names and cache key belong to the projections that write them
// (projections/accounts/); this side maps them to views and queries them.

/**
 * The queries behind the account routes. Each list reads `limit + 1` rows in a total order that an
 * index serves ({owner, _id}, {status, _id}, {accountId, revision}), resuming strictly after the
 * last key of the previous page: so pages never repeat or skip a row that existed throughout.
 */
export const accountReadModel = (readStore: ReadStore) => {
  const accounts = readStore.collection<AccountDocument>(ACCOUNTS);
  const transactions = readStore.collection<AccountTransactionDocument>(ACCOUNT_TRANSACTIONS);
  return {
    findAccount: (accountId: string) => accounts.findOne({ _id: accountId }),

    listAccounts: (query: {
      owner?: string;
      ownerId?: string;
      status?: string;
      after?: string;
      limit: number;
    }) =>
      accounts.find(
        {
          ...(query.ownerId !== undefined && { ownerId: query.ownerId }),
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

/** The usual store for plain reads; the consistent one for reads that waited for a position. */
export type AccountReadModels = { usual: AccountReadModel; consistent: AccountReadModel };
