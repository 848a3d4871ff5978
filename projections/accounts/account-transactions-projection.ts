import type { Document } from '../../infra/read-store/read-store.js';
import { guardedUpsert } from '../engine/guarded-upsert.js';
import type { Projection } from '../engine/projection.js';
import { ACCOUNT_STREAM_PREFIX, readAccountEvent } from './account-event.js';

export const ACCOUNT_TRANSACTIONS_PROJECTION = 'account-transactions';
export const ACCOUNT_TRANSACTIONS = 'account_transactions';

/** One per deposit or withdrawal; `_id` is `<accountId>:<revision>`. */
export type AccountTransactionDocument = Document & {
  accountId: string;
  revision: number;
  kind: 'deposit' | 'withdrawal';
  amount: number;
  /** In minor units, as the balance stood before this transaction. */
  balanceBefore: number;
  balanceAfter: number;
  /** What the client sent with the command (for a transfer, the transfer id); null when nothing. */
  reference: string | null;
  at: string;
};

export const accountTransactionId = (accountId: string, revision: number): string =>
  `${accountId}:${revision}`;

/** The `account_transactions` read model: each account's history of money movements, in revision order. */
export const accountTransactionsProjection = (): Projection => ({
  name: ACCOUNT_TRANSACTIONS_PROJECTION,
  eventTypes: ['MoneyDeposited', 'MoneyWithdrawn'],
  streamPrefixes: [ACCOUNT_STREAM_PREFIX],
  collections: [{ name: ACCOUNT_TRANSACTIONS, indexes: [{ keys: { accountId: 1, revision: 1 } }] }],

  handle(recorded) {
    const { event, at } = readAccountEvent(recorded);
    if (event.type !== 'MoneyDeposited' && event.type !== 'MoneyWithdrawn')
      throw new Error(`account-transactions does not read ${event.type}`);
    const { accountId, amount, balanceAfter, reference } = event.data;
    const transaction: Omit<AccountTransactionDocument, '_id' | 'revision'> = {
      accountId,
      kind: event.type === 'MoneyDeposited' ? 'deposit' : 'withdrawal',
      amount,
      // A deposit records it (version 2; upcast from version 1 when read); a withdrawal's follows.
      balanceBefore: event.type === 'MoneyDeposited' ? event.data.balanceBefore : balanceAfter + amount,
      balanceAfter,
      reference: reference ?? null,
      at,
    };
    return {
      [ACCOUNT_TRANSACTIONS]: [
        guardedUpsert(accountTransactionId(accountId, recorded.revision), recorded.revision, {
          $set: transaction,
        }),
      ],
    };
  },
});
