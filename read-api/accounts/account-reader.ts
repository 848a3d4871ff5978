import { accountCacheKey } from '../../projections/accounts/accounts-projection.js';
import type { CacheAside } from '../cache/cache-aside.js';
import type { ReadyResponse } from '../cache/ready-response.js';
import { accountReadyView } from './account-cache-entry.js';
import type { AccountReadModels, AccountViews } from './account-read-model.js';

/**
 * One account as a ready response (its JSON, ETag and owner), cache first. `fresh` skips the cache
 * and reads the consistent store: a read that waited for a position trusts only the read model its
 * checkpoint vouches for; a cache entry (or a lagging replica) carries no position. A read from the
 * read model is serialized once and written back to the cache as it is sent, with version =
 * revision, so it never replaces a newer entry the projector wrote meanwhile.
 */
export const createAccountReader =
  (deps: { models: AccountReadModels; cacheAside: CacheAside; views: AccountViews }) =>
  async (accountId: string, { fresh }: { fresh: boolean }): Promise<ReadyResponse | undefined> => {
    const key = accountCacheKey(accountId);
    if (!fresh) {
      const cached = await deps.cacheAside.ready(key, accountReadyView);
      if (cached !== undefined) return cached;
    }
    const doc = await deps.models[fresh ? 'consistent' : 'usual'].findAccount(accountId);
    const view = doc === null ? undefined : deps.views.account(doc);
    if (view === undefined) return undefined;
    const response = accountReadyView.ready(view);
    deps.cacheAside.fillReady(key, accountReadyView, response, view.revision);
    return response;
  };

export type AccountReader = ReturnType<typeof createAccountReader>;
