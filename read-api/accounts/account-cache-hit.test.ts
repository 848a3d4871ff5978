import { afterEach, describe, expect, it, vi } from 'vitest';
import { bearer, testAuthentication } from '../../infra/auth/testing/test-tokens.js';
import {
  ACCOUNTS,
  ACCOUNTS_PROJECTION,
  accountCacheKey,
  accountsProjection,
} from '../../projections/accounts/accounts-projection.js';
import { type Harness, startReadApi } from '../testing/read-api-harness.js';
import { accountReadyView } from './account-cache-entry.js';
import { accountQueries } from './index.js';
import { accountDoc, seedAccounts } from './testing/account-docs.js';

/**
 * GET /accounts/:id from ready responses (account-cache-entry.ts): the projector and a missed read
 * cache the response itself, its ETag and its owner; a hit sends them as they are, to the owner or
 * an admin only; an entry that is not a ready response of the account view is read around.
 */
let harness: Harness;
afterEach(() => harness?.close());

const ada = { authorization: bearer('ada') };
const bob = { authorization: bearer('bob') };
const admin = { authorization: bearer('ops', ['admin']) };
const get = (url: string, headers: Record<string, string>) =>
  harness.app.inject({ method: 'GET', url, headers });

const start = async () => {
  harness = await startReadApi({ queries: [accountQueries], auth: testAuthentication });
  return harness;
};

/** What the accounts projection's after-flush hook caches for the documents a batch wrote. */
const projectorCaches = async (ids: string[]) => {
  const hook = accountsProjection({ cache: { cache: harness.cache, ttlSeconds: 60 } }).afterFlush;
  await hook?.({
    projection: ACCOUNTS_PROJECTION,
    touched: new Map([[ACCOUNTS, new Set(ids)]]),
    collection: (name) => harness.readStore.collection(name),
    signal: new AbortController().signal,
  });
};

describe('GET /accounts/:id from ready responses', () => {
  it('answers a hit with the bytes and ETag a miss answered, and 304 to its ETag, from the cache alone', async () => {
    await start();
    await seedAccounts(harness, [accountDoc('a-1', { balance: 70, revision: 4 })]);
    const miss = await get('/accounts/a-1', ada);
    expect(miss.statusCode).toBe(200);
    await vi.waitFor(() => expect(harness.readApi.stats().cacheFills).toBe(1));

    harness.calls.length = 0;
    const hit = await get('/accounts/a-1', ada);
    expect(harness.calls).toEqual([`cache.get ${accountCacheKey('a-1')}`]);
    expect(harness.readApi.stats()).toMatchObject({ cacheHits: 1, cacheMisses: 1, cacheInvalid: 0 });
    expect(hit.statusCode).toBe(200);
    expect(hit.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(hit.body).toBe(miss.body);
    expect(hit.headers.etag).toBe(miss.headers.etag);
    expect(hit.json()).toEqual({
      accountId: 'a-1',
      owner: 'Ada',
      ownerId: 'ada',
      currency: 'EUR',
      balance: 70,
      status: 'open',
      revision: 4,
      openedAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    });

    const notModified = await get('/accounts/a-1', { ...ada, 'if-none-match': hit.headers.etag as string });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.body).toBe('');
    expect(notModified.headers.etag).toBe(hit.headers.etag);
    expect(harness.readApi.stats().cacheHits).toBe(2);
  });

  it('serves what the projector cached, byte for byte what the read model would answer', async () => {
    await start();
    await seedAccounts(harness, [accountDoc('a-2', { balance: 5, revision: 2 })]);
    await projectorCaches(['a-2']);
    const entry = await harness.cache.get(accountCacheKey('a-2'));
    expect(accountReadyView.decode(entry as string)?.owner).toBe('ada');

    harness.calls.length = 0;
    const hit = await get('/accounts/a-2', ada);
    expect(harness.calls).toEqual([`cache.get ${accountCacheKey('a-2')}`]);
    expect(hit.json()).toMatchObject({ accountId: 'a-2', balance: 5, revision: 2 });

    // The same document read from the read model (x-min-position skips the cache): same bytes, same ETag.
    await harness.setCheckpoint(ACCOUNTS_PROJECTION, 10n);
    const fresh = await get('/accounts/a-2', { ...ada, 'x-min-position': '1' });
    expect(harness.calls).toContain('accounts.findOne');
    expect(fresh.body).toBe(hit.body);
    expect(fresh.headers.etag).toBe(hit.headers.etag);
  });

  it('does not serve a cached account to anyone but its owner or an admin', async () => {
    await start();
    await seedAccounts(harness, [accountDoc('a-3', { ownerId: 'ada', revision: 1 })]);
    await projectorCaches(['a-3']);

    harness.calls.length = 0;
    const refused = await get('/accounts/a-3', bob);
    // From the cache, and still refused: the owner beside the bytes decides.
    expect(harness.calls).toEqual([`cache.get ${accountCacheKey('a-3')}`]);
    expect(harness.readApi.stats().cacheHits).toBe(1);
    const unknown = await get('/accounts/nobody', bob);
    for (const [response, id] of [
      [refused, 'a-3'],
      [unknown, 'nobody'],
    ] as const) {
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(response.body).not.toContain('"balance"');
      expect(response.json()).toEqual({
        type: 'urn:eventfold:problem:account-not-found',
        title: 'account not found',
        status: 404,
        detail: `no account ${id}`,
        instance: `/accounts/${id}`,
        correlationId: response.headers['x-correlation-id'],
      });
    }
    // Nor the transactions behind it.
    expect((await get('/accounts/a-3/transactions', bob)).statusCode).toBe(404);

    expect((await get('/accounts/a-3', ada)).json()).toMatchObject({ accountId: 'a-3' });
    expect((await get('/accounts/a-3', admin)).json()).toMatchObject({ accountId: 'a-3' });
    expect((await get('/accounts/a-3/transactions', ada)).statusCode).toBe(200);
  });

  it.each([
    ['a plain JSON document (the format before ready responses)', () => JSON.stringify(accountDoc('a-4'))],
    ['garbage', () => '\u0001ready1 ["x"]\nnope'],
    [
      'a ready response cut short',
      () => (accountReadyView.entryOf(accountDoc('a-4', { balance: 1 })) as string).slice(0, -2),
    ],
    [
      'a ready response of another view',
      () =>
        `${(accountReadyView.entryOf(accountDoc('a-4')) as string).replace(/\["[^"]+"/, '["other-view"')}`,
    ],
  ])('reads around a cache entry that is %s: answered from the read model', async (_name, entry) => {
    await start();
    await seedAccounts(harness, [accountDoc('a-4', { balance: 40, revision: 6 })]);
    await harness.cache.set(accountCacheKey('a-4'), entry(), { version: 1, ttlSeconds: 60 });
    const response = await get('/accounts/a-4', ada);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ accountId: 'a-4', balance: 40, revision: 6 });
    expect(harness.calls).toContain('accounts.findOne');
    expect(harness.readApi.stats()).toMatchObject({ cacheInvalid: 1, cacheHits: 0 });
    // The read replaced it with a ready response: the next read is a hit.
    await vi.waitFor(() => expect(harness.readApi.stats().cacheFills).toBe(1));
    expect((await get('/accounts/a-4', ada)).json()).toMatchObject({ balance: 40 });
    expect(harness.readApi.stats().cacheHits).toBe(1);
  });

  it('caches nothing for a document that is not a valid account view, and evicts what its key held', async () => {
    await start();
    await seedAccounts(harness, [accountDoc('a-5', { revision: 1 })]);
    await projectorCaches(['a-5']);
    expect(await harness.cache.get(accountCacheKey('a-5'))).toBeDefined();
    await harness.readStore
      .collection(ACCOUNTS)
      .bulkWrite([
        { updateOne: { filter: { _id: 'a-5' }, update: { $set: { balance: 'lots', revision: 2 } } } },
      ]);
    await projectorCaches(['a-5']);
    expect(await harness.cache.get(accountCacheKey('a-5'))).toBeUndefined();
    expect((await get('/accounts/a-5', ada)).statusCode).toBe(404);
  });
});
