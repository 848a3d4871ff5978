import { accountCacheKey } from '../../projections/accounts/accounts-projection.js';
import type { CacheAside } from '../cache/cache-aside.js';
import { type AccountReadModel, toAccountView } from './account-read-model.js';
import { type AccountView, AccountView as AccountViewSchema } from './account-views.js';

/**
 * One account, cache first. `fresh` skips the cache: a read that waited for a position trusts only
 * the read model, whose checkpoint vouches for it; a cache entry carries no position.
 */
export const createAccountReader =
  (deps: { model: AccountReadModel; cacheAside: CacheAside }) =>
  async (accountId: string, { fresh }: { fresh: boolean }): Promise<AccountView | undefined> => {
    const key = accountCacheKey(accountId);
    if (!fresh) {
      const cached = await deps.cacheAside.get(key, AccountViewSchema);
      if (cached !== undefined) return cached;
    }
    const doc = await deps.model.findAccount(accountId);
    if (doc === null) return undefined;
    const view = toAccountView(doc);
    deps.cacheAside.fill(key, view, view.revision);
    return view;
  };

export type AccountReader = ReturnType<typeof createAccountReader>;
