import type { ModuleProjections } from '../projection-module.js';
import { accountTransactionsProjection } from './account-transactions-projection.js';
import { accountsProjection } from './accounts-projection.js';

/** The accounts module's read models (composed into the module in app/modules/accounts.ts). */
export const accountProjections: ModuleProjections = ({ cache }) => [
  accountsProjection({ cache }),
  accountTransactionsProjection(),
];
