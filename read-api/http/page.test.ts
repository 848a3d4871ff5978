import { afterEach, describe, expect, it } from 'vitest';
import { COUNTER_CHANGES, COUNTERS } from '../../projections/engine/testing/fixture-projection.js';
import { changeDoc, counterDoc, fixtureQueryRoutes } from '../testing/fixture-query-routes.js';
import { type Harness, startReadApi } from '../testing/read-api-harness.js';

/**
 * Pages (page.ts, page-cursor.ts), through the fixture's list routes: in sort order, without gaps
 * or duplicates even while rows are added, with a null cursor on the last page; a limit or cursor
 * that is not one of ours is a 400 that reaches neither store nor cache.
 */
let harness: Harness;
afterEach(() => harness?.close());

const get = (url: string) => harness.app.inject({ method: 'GET', url });
const pad = (n: number) => String(n).padStart(4, '0');

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

// 260 counters, owners Ada and Bob alternating, inserted out of order.
const seedMany = async () => {
  const docs = Array.from({ length: 260 }, (_, i) =>
    counterDoc(`c-${pad(i)}`, { owner: i % 2 === 0 ? 'Ada' : 'Bob' }),
  );
  await harness.seed(COUNTERS, [...docs].reverse());
  return docs;
};

describe('pages', () => {
  it.each([
    ['an owner', '?owner=Ada', (d: { owner: string }) => d.owner === 'Ada'],
    ['nothing', '', () => true],
  ])(
    'pages through hundreds of rows filtered by %s: in id order, no gap, no duplicate',
    async (_name, query, keep) => {
      harness = await startReadApi({ queries: [fixtureQueryRoutes] });
      const docs = await seedMany();
      const expected = docs.filter(keep).map((d) => d.counterId);
      const pages = await pageThrough(`/counters${query}${query ? '&' : '?'}limit=7`);
      expect(pages.flatMap((page) => page.items.map((item) => item.counterId))).toEqual(expected);
      expect(pages.at(-1)?.nextCursor).toBeNull();
      expect(pages.slice(0, -1).every((page) => page.items.length === 7)).toBe(true);
    },
  );

  it('pages without gaps or duplicates while rows are added on both sides of the cursor', async () => {
    harness = await startReadApi({ queries: [fixtureQueryRoutes] });
    const docs = await seedMany();
    const seen: string[] = [];
    let cursor: string | null = null;
    let round = 0;
    do {
      const response = await get(`/counters?owner=Ada&limit=25${cursor ? `&cursor=${cursor}` : ''}`);
      const page = response.json();
      seen.push(...page.items.map((item: { counterId: string }) => item.counterId));
      cursor = page.nextCursor;
      // New rows sort before the cursor (c-0…) and after it (c-9…).
      await harness.seed(COUNTERS, [
        counterDoc(`c-0000-${round}`, { owner: 'Ada' }),
        counterDoc(`c-9999-${round}`, { owner: 'Ada' }),
      ]);
      round++;
    } while (cursor !== null);
    expect(new Set(seen).size).toBe(seen.length);
    const before = docs.filter((d) => d.owner === 'Ada').map((d) => d.counterId);
    expect(before.every((id) => seen.includes(id))).toBe(true);
    expect(seen).toEqual([...seen].sort());
  });

  it('defaults to 20 per page, gives at most 100, and ends with a null cursor on an exact fit', async () => {
    harness = await startReadApi({ queries: [fixtureQueryRoutes] });
    await seedMany();
    expect((await get('/counters')).json().items).toHaveLength(20);
    expect((await get('/counters?limit=100')).json().items).toHaveLength(100);
    const exact = (await get('/counters?owner=Bob&limit=100')).json(); // Bob has 130
    expect(exact.items).toHaveLength(100);
    const fit = (await get(`/counters?owner=Bob&limit=30&cursor=${exact.nextCursor}`)).json();
    expect(fit.items).toHaveLength(30);
    expect(fit.nextCursor).toBeNull();
  });

  it('answers an empty page when nothing matches', async () => {
    harness = await startReadApi({ queries: [fixtureQueryRoutes] });
    expect((await get('/counters?owner=Nobody')).json()).toEqual({ items: [], nextCursor: null });
  });

  it('pages through hundreds of rows keyed by revision, in order', async () => {
    harness = await startReadApi({ queries: [fixtureQueryRoutes] });
    await harness.seed(COUNTERS, [counterDoc('t-1', { revision: 300 }), counterDoc('t-2', { revision: 3 })]);
    const revisions = Array.from({ length: 300 }, (_, i) => i + 1);
    // Shuffled, and interleaved with another counter's.
    await harness.seed(
      COUNTER_CHANGES,
      [...revisions]
        .sort(() => Math.random() - 0.5)
        .flatMap((r) => (r <= 3 ? [changeDoc('t-1', r), changeDoc('t-2', r)] : [changeDoc('t-1', r)])),
    );
    const pages = await pageThrough('/counters/t-1/changes?limit=41');
    expect(pages.flatMap((page) => page.items.map((item) => item.revision))).toEqual(revisions);
    expect(pages[0]?.items[0]).toEqual({
      revision: 1,
      kind: 'increment',
      amount: 10,
      totalAfter: 10,
      note: 'note-1',
      at: '2026-01-02T00:00:00.000Z',
    });
  });
});

describe('a limit or cursor that is not ours answers 400 and reaches neither store nor cache', () => {
  const tamper = (cursor: string) => {
    const [payload = '', tag] = cursor.split('.');
    const last = payload.at(-1) === 'A' ? 'B' : 'A';
    return `${payload.slice(0, -1)}${last}.${tag}`;
  };
  const cases: [string, (cursors: Record<string, string>) => string, string][] = [
    ['a zero limit', () => '/counters?limit=0', 'invalid-request'],
    ['a limit over 100', () => '/counters?limit=101', 'invalid-request'],
    ['a fractional limit', () => '/counters?limit=1.5', 'invalid-request'],
    ['a limit in exponent form', () => '/counters?limit=1e1', 'invalid-request'],
    ['a hexadecimal limit', () => '/counters?limit=0x10', 'invalid-request'],
    ['a word for a limit', () => '/counters?limit=ten', 'invalid-request'],
    ['an empty limit', () => '/counters?limit=', 'invalid-request'],
    ['a repeated limit', () => '/counters?limit=5&limit=6', 'invalid-request'],
    ['a garbage cursor', () => '/counters?cursor=not-a-cursor', 'invalid-cursor'],
    ['an over-long cursor', () => `/counters?cursor=${'a'.repeat(400)}`, 'invalid-request'],
    [
      'a tampered cursor',
      (c) => `/counters?owner=Ada&limit=2&cursor=${tamper(c.ada as string)}`,
      'invalid-cursor',
    ],
    ['a cursor of another filter', (c) => `/counters?owner=Bob&limit=2&cursor=${c.ada}`, 'invalid-cursor'],
    ['a cursor without its filter', (c) => `/counters?limit=2&cursor=${c.ada}`, 'invalid-cursor'],
    ['a cursor of another route', (c) => `/counters/t-1/changes?cursor=${c.ada}`, 'invalid-cursor'],
    ["another path's cursor", (c) => `/counters/t-2/changes?cursor=${c.changes}`, 'invalid-cursor'],
  ];

  it.each(cases)('refuses %s', async (_name, url, type) => {
    harness = await startReadApi({ queries: [fixtureQueryRoutes] });
    await harness.seed(COUNTERS, [
      counterDoc('a-1'),
      counterDoc('a-2'),
      counterDoc('a-3'),
      counterDoc('t-1'),
    ]);
    await harness.seed(COUNTER_CHANGES, [changeDoc('t-1', 1), changeDoc('t-1', 2)]);
    const cursorFor = async (path: string) => {
      const cursor = (await get(path)).json().nextCursor as string;
      expect(cursor).toEqual(expect.any(String));
      return cursor;
    };
    const cursors = {
      ada: await cursorFor('/counters?owner=Ada&limit=2'),
      changes: await cursorFor('/counters/t-1/changes?limit=1'),
    };
    harness.calls.length = 0;
    const response = await get(url(cursors));
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status: 400, type: `urn:eventfold:problem:${type}` });
    expect(harness.calls).toEqual([]);
  });
});
