import { afterEach, describe, expect, it } from 'vitest';
import { ACCOUNT_TRANSACTIONS_PROJECTION } from '../../projections/accounts/account-transactions-projection.js';
import { ACCOUNTS_PROJECTION } from '../../projections/accounts/accounts-projection.js';
import type { WaitForCheckpoint } from '../../projections/engine/checkpoint-watch.js';
import { type Harness, startReadApi } from '../testing/read-api-harness.js';
import { accountQueries } from './index.js';
import { accountDoc, seedAccounts, seedTransactions, transactionDoc } from './testing/account-docs.js';

let harness: Harness;
afterEach(() => harness?.close());

const get = (url: string, headers: Record<string, string | string[]> = {}) =>
  harness.app.inject({ method: 'GET', url, headers });

const expectProblem = (response: Awaited<ReturnType<typeof get>>, status: number, type: string) => {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = response.json();
  expect(problem).toMatchObject({ status, type: `urn:eventfold:problem:${type}` });
  return problem;
};

/** Follows nextCursor from the first page to the last, and returns every page. */
const pageThrough = async (url: string) => {
  const pages: { items: Record<string, unknown>[]; nextCursor: string | null }[] = [];
  let cursor: string | null = null;
  do {
    const separator = url.includes('?') ? '&' : '?';
    const response = await get(cursor === null ? url : `${url}${separator}cursor=${cursor}`);
    expect(response.statusCode).toBe(200);
    const page = response.json();
    pages.push(page);
    cursor = page.nextCursor;
  } while (cursor !== null);
  // The page before the last knew there was more: the last page is never an empty one.
  if (pages.length > 1) expect(pages.at(-1)?.items.length).toBeGreaterThan(0);
  return pages;
};

const pad = (n: number) => String(n).padStart(4, '0');

describe('GET /accounts/:id', () => {
  it('answers the account view, without storage keys, with an ETag', async () => {
    harness = await startReadApi({ queries: [accountQueries] });
    await seedAccounts(harness, [accountDoc('ada-1', { balance: 250, revision: 3 })]);
    const response = await get('/accounts/ada-1');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers.etag).toMatch(/^"[^"]+"$/);
    expect(response.json()).toEqual({
      accountId: 'ada-1',
      owner: 'Ada',
      ownerId: 'ada',
      currency: 'EUR',
      balance: 250,
      status: 'open',
      revision: 3,
      openedAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
  });

  it('answers 404 problem+json for an unknown account', async () => {
    harness = await startReadApi({ queries: [accountQueries] });
    const problem = expectProblem(await get('/accounts/nobody'), 404, 'account-not-found');
    expect(problem.detail).toContain('nobody');
  });
});

describe('GET /accounts', () => {
  // 260 accounts: owners Ada and Bob alternate, every third one is closed; inserted out of order.
  const seedMany = async () => {
    const docs = Array.from({ length: 260 }, (_, i) =>
      accountDoc(`acc-${pad(i)}`, {
        owner: i % 2 === 0 ? 'Ada' : 'Bob',
        status: i % 3 === 0 ? 'closed' : 'open',
      }),
    );
    await seedAccounts(harness, [...docs].reverse());
    return docs;
  };

  it.each([
    ['owner', '?owner=Ada', (d: { owner: string }) => d.owner === 'Ada'],
    ['status', '?status=closed', (d: { status: string }) => d.status === 'closed'],
    [
      'owner and status',
      '?owner=Bob&status=open',
      (d: { owner: string; status: string }) => d.owner === 'Bob' && d.status === 'open',
    ],
    ['nothing', '', () => true],
  ])(
    'pages through hundreds of accounts filtered by %s: in id order, no gap, no duplicate',
    async (_name, query, keep) => {
      harness = await startReadApi({ queries: [accountQueries] });
      const docs = await seedMany();
      const expected = docs.filter(keep as (d: (typeof docs)[number]) => boolean).map((d) => d.accountId);
      const pages = await pageThrough(`/accounts${query}${query ? '&' : '?'}limit=7`);
      const ids = pages.flatMap((page) => page.items.map((item) => item.accountId));
      expect(ids).toEqual(expected);
      for (const page of pages) expect(page.items.length).toBeLessThanOrEqual(7);
      expect(pages.at(-1)?.nextCursor).toBeNull();
      expect(pages.slice(0, -1).every((page) => page.items.length === 7)).toBe(true);
    },
  );

  it('pages without gaps or duplicates while accounts are added on both sides of the cursor', async () => {
    harness = await startReadApi({ queries: [accountQueries] });
    const docs = await seedMany();
    const seen: string[] = [];
    let cursor: string | null = null;
    let round = 0;
    do {
      const response = await get(`/accounts?owner=Ada&limit=25${cursor ? `&cursor=${cursor}` : ''}`);
      const page = response.json();
      seen.push(...page.items.map((item: { accountId: string }) => item.accountId));
      cursor = page.nextCursor;
      // New accounts sort before the cursor (acc-0…) and after it (acc-9…).
      await seedAccounts(harness, [
        accountDoc(`acc-0000-${round}`, { owner: 'Ada' }),
        accountDoc(`acc-9999-${round}`, { owner: 'Ada' }),
      ]);
      round++;
    } while (cursor !== null);
    expect(new Set(seen).size).toBe(seen.length);
    const before = docs.filter((d) => d.owner === 'Ada').map((d) => d.accountId);
    expect(before.every((id) => seen.includes(id))).toBe(true);
    expect(seen).toEqual([...seen].sort());
  });

  it('defaults to 20 per page, gives at most 100, and ends with a null cursor on an exact fit', async () => {
    harness = await startReadApi({ queries: [accountQueries] });
    await seedMany();
    expect((await get('/accounts')).json().items).toHaveLength(20);
    expect((await get('/accounts?limit=100')).json().items).toHaveLength(100);
    const exact = (await get('/accounts?owner=Ada&status=closed&limit=44')).json();
    expect(exact.items).toHaveLength(44);
    expect(exact.nextCursor).toBeNull();
  });

  it('answers an empty page for an owner with no accounts', async () => {
    harness = await startReadApi({ queries: [accountQueries] });
    expect((await get('/accounts?owner=Nobody')).json()).toEqual({ items: [], nextCursor: null });
  });
});

describe('GET /accounts/:id/transactions', () => {
  it('pages through hundreds of transactions in revision order', async () => {
    harness = await startReadApi({ queries: [accountQueries] });
    await seedAccounts(harness, [accountDoc('t-1', { revision: 300 }), accountDoc('t-2', { revision: 3 })]);
    const revisions = Array.from({ length: 300 }, (_, i) => i + 1);
    // Shuffled, and interleaved with another account's.
    await seedTransactions(
      harness,
      [...revisions]
        .sort(() => Math.random() - 0.5)
        .flatMap((r) =>
          r <= 3 ? [transactionDoc('t-1', r), transactionDoc('t-2', r)] : [transactionDoc('t-1', r)],
        ),
    );
    const pages = await pageThrough('/accounts/t-1/transactions?limit=41');
    expect(pages.flatMap((page) => page.items.map((item) => item.revision))).toEqual(revisions);
    expect(pages.at(-1)?.nextCursor).toBeNull();
    expect(pages[0]?.items[0]).toEqual({
      revision: 1,
      kind: 'deposit',
      amount: 10,
      balanceBefore: 0,
      balanceAfter: 10,
      reference: 'ref-1',
      at: '2026-01-02T00:00:00.000Z',
    });
  });

  it('shows a transaction without a reference with reference null', async () => {
    harness = await startReadApi({ queries: [accountQueries] });
    await seedAccounts(harness, [accountDoc('t-3', { revision: 1 })]);
    await seedTransactions(harness, [transactionDoc('t-3', 1, { kind: 'withdrawal', reference: null })]);
    expect((await get('/accounts/t-3/transactions')).json().items).toEqual([
      expect.objectContaining({ kind: 'withdrawal', reference: null }),
    ]);
  });

  it('answers an empty page for an account without transactions, and 404 for an unknown account', async () => {
    harness = await startReadApi({ queries: [accountQueries] });
    await seedAccounts(harness, [accountDoc('t-4')]);
    expect((await get('/accounts/t-4/transactions')).json()).toEqual({ items: [], nextCursor: null });
    expectProblem(await get('/accounts/nobody/transactions'), 404, 'account-not-found');
  });
});

describe('bad input answers 400 problem+json and reaches neither store nor cache', () => {
  const cursorFor = async (url: string) => {
    const cursor = (await get(url)).json().nextCursor as string;
    expect(cursor).toEqual(expect.any(String));
    return cursor;
  };
  const tamper = (cursor: string) => {
    const [payload = '', tag] = cursor.split('.');
    const last = payload.at(-1) === 'A' ? 'B' : 'A';
    return `${payload.slice(0, -1)}${last}.${tag}`;
  };

  const cases: [string, (cursors: Record<string, string>) => string, string][] = [
    ['an operator object for owner', () => '/accounts?owner[$ne]=x', 'invalid-request'],
    ['an operator object, bracket-encoded', () => '/accounts?owner%5B%24gt%5D=', 'invalid-request'],
    ['a repeated owner (an array)', () => '/accounts?owner=a&owner=b', 'invalid-request'],
    ['an unknown parameter', () => '/accounts?admin=true', 'invalid-request'],
    ['a __proto__ parameter', () => '/accounts?__proto__=x', 'invalid-request'],
    ['an empty owner', () => '/accounts?owner=', 'invalid-request'],
    ['an unknown status', () => '/accounts?status=frozen', 'invalid-request'],
    ['a zero limit', () => '/accounts?limit=0', 'invalid-request'],
    ['a limit over 100', () => '/accounts?limit=101', 'invalid-request'],
    ['a fractional limit', () => '/accounts?limit=1.5', 'invalid-request'],
    ['a limit in exponent form', () => '/accounts?limit=1e1', 'invalid-request'],
    ['a hexadecimal limit', () => '/accounts?limit=0x10', 'invalid-request'],
    ['a word for a limit', () => '/accounts?limit=ten', 'invalid-request'],
    ['an empty limit', () => '/accounts?limit=', 'invalid-request'],
    ['a repeated limit', () => '/accounts?limit=5&limit=6', 'invalid-request'],
    ['a garbage cursor', () => '/accounts?cursor=not-a-cursor', 'invalid-cursor'],
    ['an over-long cursor', () => `/accounts?cursor=${'a'.repeat(400)}`, 'invalid-request'],
    [
      'a tampered cursor',
      (c) => `/accounts?owner=Ada&limit=2&cursor=${tamper(c.ada as string)}`,
      'invalid-cursor',
    ],
    ['a cursor of another owner', (c) => `/accounts?owner=Bob&limit=2&cursor=${c.ada}`, 'invalid-cursor'],
    ['a cursor without its filter', (c) => `/accounts?limit=2&cursor=${c.ada}`, 'invalid-cursor'],
    [
      'an account cursor on transactions',
      (c) => `/accounts/t-1/transactions?cursor=${c.ada}`,
      'invalid-cursor',
    ],
    [
      "another account's transaction cursor",
      (c) => `/accounts/t-2/transactions?cursor=${c.tx}`,
      'invalid-cursor',
    ],
    ['a malformed account id', () => '/accounts/a%20b', 'invalid-request'],
    ['an over-long account id', () => `/accounts/${'a'.repeat(65)}`, 'invalid-request'],
    ['a query on GET /accounts/:id', () => '/accounts/t-1?fields=owner', 'invalid-request'],
    ['an unknown transactions parameter', () => '/accounts/t-1/transactions?kind=deposit', 'invalid-request'],
    ['a transactions limit of 0', () => '/accounts/t-1/transactions?limit=0', 'invalid-request'],
  ];

  it.each(cases)('refuses %s', async (_name, url, type) => {
    harness = await startReadApi({ queries: [accountQueries] });
    await seedAccounts(harness, [accountDoc('a-1'), accountDoc('a-2'), accountDoc('a-3'), accountDoc('t-1')]);
    await seedTransactions(harness, [transactionDoc('t-1', 1), transactionDoc('t-1', 2)]);
    const cursors = {
      ada: await cursorFor('/accounts?owner=Ada&limit=2'),
      tx: await cursorFor('/accounts/t-1/transactions?limit=1'),
    };
    harness.calls.length = 0;
    const problem = expectProblem(await get(url(cursors)), 400, type);
    expect(problem.title).toEqual(expect.any(String));
    expect(harness.calls).toEqual([]);
  });
});

describe('read your writes: x-min-position', () => {
  it('reads what the checkpoint vouches for, not a lagging replica, on every route', async () => {
    harness = await startReadApi({ queries: [accountQueries], laggingReplica: true });
    // The replica has not seen the deposit (revision 1) that the primary and its checkpoint have.
    await seedAccounts(harness, [accountDoc('r-6', { revision: 1, balance: 10 })]);
    await seedTransactions(harness, [transactionDoc('r-6', 1)]);
    await harness.replica
      .collection('accounts')
      .bulkWrite([{ insertOne: { document: accountDoc('r-6', { revision: 0, balance: 0 }) } }]);
    await harness.setCheckpoint(ACCOUNTS_PROJECTION, 3n);
    await harness.setCheckpoint(ACCOUNT_TRANSACTIONS_PROJECTION, 3n);

    expect((await get('/accounts/r-6')).json()).toMatchObject({ balance: 0 });
    const position = { 'x-min-position': '3' };
    expect((await get('/accounts/r-6', position)).json()).toMatchObject({ balance: 10, revision: 1 });
    expect((await get('/accounts?owner=Ada', position)).json().items).toEqual([
      expect.objectContaining({ balance: 10 }),
    ]);
    expect((await get('/accounts/r-6/transactions', position)).json().items).toHaveLength(1);
    expect((await get('/accounts/r-6/transactions')).json().items).toHaveLength(0);
  });

  it('uses the in-process wait when given one, for the projections behind each route', async () => {
    const waits: [string, bigint][] = [];
    const waitForCheckpoint: WaitForCheckpoint = async (projection, position) => {
      waits.push([projection, position]);
      return true;
    };
    harness = await startReadApi({ queries: [accountQueries], waitForCheckpoint });
    await seedAccounts(harness, [accountDoc('r-4')]);
    expect((await get('/accounts/r-4', { 'x-min-position': '9' })).statusCode).toBe(200);
    expect((await get('/accounts/r-4/transactions', { 'x-min-position': '12' })).statusCode).toBe(200);
    expect(waits).toEqual([
      [ACCOUNTS_PROJECTION, 9n],
      [ACCOUNTS_PROJECTION, 12n],
      [ACCOUNT_TRANSACTIONS_PROJECTION, 12n],
    ]);
    expect(harness.calls).not.toContain('checkpoints.findOne');
  });
});
