import { afterEach, describe, expect, it, vi } from 'vitest';
import { TRANSFERS } from '../../projections/transfers/transfers-projection.js';
import { accountQueries } from '../accounts/index.js';
import { accountDoc, type Harness, startReadApi, transactionDoc } from '../testing/read-api-harness.js';
import { transferQueries } from '../transfers/index.js';

/**
 * A read-model document that does not match its view (here: what a revision-guarded upsert made of
 * a deposit whose AccountOpened never projected) is answered as absent, logged and counted: never a
 * 5xx, neither for itself nor for the list pages it falls on.
 */
let harness: Harness;
afterEach(() => harness?.close());

const get = (url: string) => harness.app.inject({ method: 'GET', url });

/** No owner, currency, status or openedAt: only the fields a deposit sets. */
const holeyAccount = (accountId: string) => {
  const { owner, currency, status, openedAt, ...rest } = accountDoc(accountId, { balance: 500, revision: 1 });
  return rest as ReturnType<typeof accountDoc>;
};

describe('documents that do not match their view', () => {
  it('GET /accounts/:id answers 404, logs the document id, counts it, and caches nothing', async () => {
    harness = await startReadApi({ queries: [accountQueries, transferQueries] });
    const logged = vi.spyOn(harness.app.log, 'error');
    await harness.seedAccounts([holeyAccount('holey')]);
    const response = await get('/accounts/holey');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ type: 'urn:eventfold:problem:account-not-found' });
    expect(harness.readApi.stats()).toMatchObject({ invalidDocuments: 1, cacheFills: 0 });
    expect(logged).toHaveBeenCalledWith(
      expect.objectContaining({ collection: 'accounts', id: 'holey' }),
      expect.stringContaining('does not match its view'),
    );
    expect(harness.calls).not.toContain('cache.set account:holey');
  });

  it('GET /accounts leaves it out, and pages on past it', async () => {
    harness = await startReadApi({ queries: [accountQueries, transferQueries] });
    await harness.seedAccounts([accountDoc('a'), holeyAccount('b'), accountDoc('c')]);
    const all = await get('/accounts');
    expect(all.statusCode).toBe(200);
    expect(all.json().items.map((item: { accountId: string }) => item.accountId)).toEqual(['a', 'c']);

    const ids: string[] = [];
    let url = '/accounts?limit=1';
    for (;;) {
      const page = await get(url);
      expect(page.statusCode).toBe(200);
      const { items, nextCursor } = page.json();
      ids.push(...items.map((item: { accountId: string }) => item.accountId));
      if (nextCursor === null) break;
      url = `/accounts?limit=1&cursor=${nextCursor}`;
    }
    expect(ids).toEqual(['a', 'c']);
    expect(harness.readApi.stats().invalidDocuments).toBeGreaterThanOrEqual(2);
  });

  it('GET /accounts/:id/transactions leaves an invalid transaction out', async () => {
    harness = await startReadApi({ queries: [accountQueries, transferQueries] });
    await harness.seedAccounts([accountDoc('a', { revision: 3 })]);
    await harness.seedTransactions([
      transactionDoc('a', 1),
      transactionDoc('a', 2, { kind: 'refund' as 'deposit' }),
      transactionDoc('a', 3),
    ]);
    const response = await get('/accounts/a/transactions');
    expect(response.statusCode).toBe(200);
    expect(response.json().items.map((item: { revision: number }) => item.revision)).toEqual([1, 3]);
    expect(harness.readApi.stats().invalidDocuments).toBe(1);
  });

  it('GET /transfers/:id answers 404 for a transfer document without its request', async () => {
    harness = await startReadApi({ queries: [accountQueries, transferQueries] });
    await harness.readStore.collection(TRANSFERS).bulkWrite([
      {
        insertOne: {
          document: { _id: 't1', status: 'completed', revision: 2, updatedAt: '2026-01-01T00:00:00.000Z' },
        },
      },
    ]);
    const response = await get('/transfers/t1');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ type: 'urn:eventfold:problem:transfer-not-found' });
    expect(harness.readApi.stats().invalidDocuments).toBe(1);
  });
});
