import type { Cache } from '../infra/cache/cache.js';
import { accountTransactionsProjection } from './accounts/account-transactions-projection.js';
import { accountsProjection } from './accounts/accounts-projection.js';
import type { Projection } from './engine/projection.js';
import { transfersProjection } from './transfers/transfers-projection.js';

/** Every read model of the app: what startProjections runs and what the scripts find by name. */
export const appProjections = ({
  cache,
}: {
  cache?: { cache: Cache; ttlSeconds: number };
} = {}): Projection[] => [
  accountsProjection({ cache }),
  accountTransactionsProjection(),
  transfersProjection(),
];
