import { accountEventTypes } from '../../domain/accounts/account.js';
import type { Cache } from '../../infra/cache/cache.js';
import type { Document } from '../../infra/read-store/read-store.js';
import { accountReadyView } from '../../read-api/accounts/account-cache-entry.js';
import { cacheDocuments } from '../engine/cache-documents.js';
import { guardedUpsert } from '../engine/guarded-upsert.js';
import type { Projection } from '../engine/projection.js';
import { ACCOUNT_STREAM_PREFIX, readAccountEvent } from './account-event.js';

export const ACCOUNTS_PROJECTION = 'accounts';
export const ACCOUNTS = 'accounts';

/** One per account: its summary as of `revision` of its stream. */
export type AccountDocument = Document & {
  accountId: string;
  owner: string;
  /** The subject that opened the account and owns it. */
  ownerId: string;
  currency: string;
  /** In minor units. */
  balance: number;
  status: 'open' | 'closed';
  revision: number;
  openedAt: string;
  updatedAt: string;
};

/**
 * The cache entry of an account: GET /accounts/:id's ready response (the document without its
 * storage key, checked against the view and serialized once, with its ETag and owner).
 */
export const accountCacheKey = (accountId: string): string => `account:${accountId}`;
const accountSummary = ({ _id, ...summary }: AccountDocument) => summary;

export type AccountsProjectionOptions = {
  /** Keeps `account:<id>` in the cache fresh after every batch. */
  cache?: { cache: Cache; ttlSeconds: number };
};

/** The `accounts` read model: every account's summary, listed by owner or status in id order. */
export const accountsProjection = ({ cache }: AccountsProjectionOptions = {}): Projection => ({
  name: ACCOUNTS_PROJECTION,
  eventTypes: accountEventTypes,
  streamPrefixes: [ACCOUNT_STREAM_PREFIX],
  collections: [
    {
      name: ACCOUNTS,
      indexes: [
        { keys: { owner: 1, _id: 1 } },
        { keys: { status: 1, _id: 1 } },
        // GET /accounts for someone who is not an admin: their own accounts, in id order.
        { keys: { ownerId: 1, _id: 1 } },
      ],
    },
  ],

  handle(recorded) {
    const { event, at } = readAccountEvent(recorded);
    const { accountId } = event.data;
    const write = (fields: Partial<AccountDocument>) => ({
      [ACCOUNTS]: [guardedUpsert(accountId, recorded.revision, { $set: { ...fields, updatedAt: at } })],
    });
    switch (event.type) {
      case 'AccountOpened': {
        const { owner, ownerId, currency } = event.data;
        return write({ accountId, owner, ownerId, currency, balance: 0, status: 'open', openedAt: at });
      }
      case 'MoneyDeposited':
      case 'MoneyWithdrawn':
        // The event carries the balance it leaves, so the document needs no read to stay exact.
        return write({ balance: event.data.balanceAfter });
      case 'AccountClosed':
        return write({ status: 'closed' });
    }
  },

  ...(cache && {
    afterFlush: cacheDocuments<AccountDocument>({
      cache: cache.cache,
      collection: ACCOUNTS,
      key: accountCacheKey,
      version: (doc) => doc.revision,
      entry: (doc) => accountReadyView.entryOf(accountSummary(doc)),
      ttlSeconds: cache.ttlSeconds,
    }),
  }),
});
