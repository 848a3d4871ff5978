import { accountCacheKey } from '../../projections/accounts/accounts-projection.js';
import type { CacheAside } from '../cache/cache-aside.js';
import type { AccountReadModels, AccountViews } from './account-read-model.js';
import { type AccountView, AccountView as AccountViewSchema } from './account-views.js';

/**
 * One account, cache first. `fresh` skips the cache and reads the consistent store: a read that
 * waited for a position trusts only the read model its checkpoint vouches for; a cache entry (or a
 * lagging replica) carries no position.
 */
export const createAccountReader =
  (deps: { models: AccountReadModels; cacheAside: CacheAside; views: AccountViews }) =>
  async (accountId: string, { fresh }: { fresh: boolean }): Promise<AccountView | undefined> => {
    const key = accountCacheKey(accountId);
    if (!fresh) {
      const cached = await deps.cacheAside.get(key, AccountViewSchema);
      if (cached !== undefined) return cached;
    }
    const doc = await deps.models[fresh ? 'consistent' : 'usual'].findAccount(accountId);
    const view = doc === null ? undefined : deps.views.account(doc);
    if (view === undefined) return undefined;
    deps.cacheAside.fill(key, view, view.revision);
    return view;
  };

export type AccountReader = ReturnType<typeof createAccountReader>;
