import { afterEach, describe, expect, it, vi } from 'vitest';
import { samples } from '../../domain/sticky-notes/testing/sticky-note-samples.js';
import {
  STICKY_NOTES,
  STICKY_NOTES_PROJECTION,
  type StickyNoteDocument,
  stickyNoteCacheKey,
} from '../../projections/sticky-notes/sticky-notes-projection.js';
import { type Harness, startReadApi } from '../testing/read-api-harness.js';
import { stickyNoteQueries } from './index.js';

let harness: Harness;
afterEach(() => harness?.close());

const start = (options: { consistencyTimeoutMs?: number } = {}) =>
  startReadApi({ queries: [stickyNoteQueries], ...options });

const get = (url: string, headers: Record<string, string> = {}) =>
  harness.app.inject({ method: 'GET', url, headers });

const doc = (stickyNoteId: string, fields: Partial<StickyNoteDocument> = {}): StickyNoteDocument => ({
  _id: stickyNoteId,
  stickyNoteId,
  ...samples.created,
  status: 'active',
  revision: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...fields,
});

const seed = (...docs: StickyNoteDocument[]) =>
  harness.readStore.collection(STICKY_NOTES).bulkWrite(docs.map((document) => ({ insertOne: { document } })));

const expectProblem = (response: Awaited<ReturnType<typeof get>>, status: number, type: string) => {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.json()).toMatchObject({ status, type: `urn:eventfold:problem:${type}` });
};

/** Follows nextCursor from the first page to the last, and returns every page. */
const pageThrough = async (url: string) => {
  const pages: { items: { stickyNoteId: string }[]; nextCursor: string | null }[] = [];
  let cursor: string | null = null;
  do {
    const response = await get(cursor === null ? url : `${url}&cursor=${cursor}`);
    expect(response.statusCode).toBe(200);
    pages.push(response.json());
    cursor = pages.at(-1)?.nextCursor ?? null;
  } while (cursor !== null);
  return pages;
};

describe('GET /sticky-notes/:id', () => {
  it('answers the view, without storage keys, with an ETag', async () => {
    harness = await start();
    await seed(doc('g-1', { ...samples.edit, revision: 1 }));
    const response = await get('/sticky-notes/g-1');
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toMatch(/^"[^"]+"$/);
    const { _id, ...view } = doc('g-1', { ...samples.edit, revision: 1 });
    expect(response.json()).toEqual(view);
  });

  it('answers 404 problem+json for an unknown sticky note', async () => {
    harness = await start();
    expectProblem(await get('/sticky-notes/nobody'), 404, 'sticky-note-not-found');
  });

  it('answers 404 for a document that does not match the view, counts it and caches nothing', async () => {
    harness = await start();
    await seed(doc('bad-1', { status: 'lost' as StickyNoteDocument['status'] }));
    expectProblem(await get('/sticky-notes/bad-1'), 404, 'sticky-note-not-found');
    expect(harness.readApi.stats()).toMatchObject({ invalidDocuments: 1, cacheFills: 0 });
    expect(harness.calls).not.toContain(`cache.set ${stickyNoteCacheKey('bad-1')}`);
  });

  it('misses, reads the read model and fills the cache; then hits', async () => {
    harness = await start();
    await seed(doc('c-1', { revision: 4 }));
    expect((await get('/sticky-notes/c-1')).statusCode).toBe(200);
    const key = stickyNoteCacheKey('c-1');
    expect(harness.calls).toEqual([`cache.get ${key}`, 'sticky_notes.findOne', `cache.set ${key}`]);
    await vi.waitFor(() => expect(harness.readApi.stats().cacheFills).toBe(1));

    harness.calls.length = 0;
    expect((await get('/sticky-notes/c-1')).json()).toMatchObject({ revision: 4 });
    expect(harness.calls).toEqual([`cache.get ${key}`]);
  });
});

describe('GET /sticky-notes', () => {
  // 45 sticky notes, every third one archived, inserted out of order.
  const ids = Array.from({ length: 45 }, (_, i) => `n-${String(i).padStart(2, '0')}`);
  const seedMany = () =>
    seed(...ids.map((id, i) => doc(id, i % 3 === 0 ? { status: 'archived' } : {})).reverse());

  it.each([
    ['nothing', '?limit=4', () => true],
    ['status', '?status=archived&limit=4', (i: number) => i % 3 === 0],
  ])(
    'pages with a cursor through sticky notes filtered by %s: id order, no gap, no duplicate',
    async (_name, query, keep) => {
      harness = await start();
      await seedMany();
      const pages = await pageThrough(`/sticky-notes${query}`);
      expect(pages.length).toBeGreaterThan(1);
      expect(pages.slice(0, -1).every((page) => page.items.length === 4)).toBe(true);
      expect(pages.flatMap((page) => page.items.map((item) => item.stickyNoteId))).toEqual(
        ids.filter((_, i) => keep(i)),
      );
    },
  );

  it('answers an empty page, with a null cursor, when nothing matches', async () => {
    harness = await start();
    await seed(doc('a-1'));
    expect((await get('/sticky-notes?status=archived')).json()).toEqual({ items: [], nextCursor: null });
  });

  it('leaves out a document that does not match the view; the cursor still resumes after it', async () => {
    harness = await start();
    await seed(doc('a-1'), doc('a-2', { status: 'lost' as StickyNoteDocument['status'] }), doc('a-3'));
    const first = (await get('/sticky-notes?limit=2')).json();
    expect(first.items.map((item: { stickyNoteId: string }) => item.stickyNoteId)).toEqual(['a-1']);
    const next = (await get(`/sticky-notes?limit=2&cursor=${first.nextCursor}`)).json();
    expect(next).toMatchObject({ items: [{ stickyNoteId: 'a-3' }], nextCursor: null });
  });

  it.each([
    [
      'a cursor of another filter',
      (cursor: string) => `?status=active&limit=2&cursor=${cursor}`,
      'invalid-cursor',
    ],
    ['a garbage cursor', () => '?cursor=not-a-cursor', 'invalid-cursor'],
    ['an unknown status', () => '?status=lost', 'invalid-request'],
    ['a limit over 100', () => '?limit=101', 'invalid-request'],
    ['an unknown parameter', () => '?owner=me', 'invalid-request'],
  ])('refuses %s with 400, reading nothing', async (_name, query, type) => {
    harness = await start();
    await seed(doc('a-1'), doc('a-2'), doc('a-3'));
    const { nextCursor } = (await get('/sticky-notes?limit=2')).json();
    harness.calls.length = 0;
    expectProblem(await get(`/sticky-notes${query(nextCursor)}`), 400, type);
    expect(harness.calls).toEqual([]);
  });
});

describe('bad input on GET /sticky-notes/:id', () => {
  it.each([
    ['a malformed id', '/sticky-notes/a%20b', {}],
    ['an unknown query parameter', '/sticky-notes/g-1?fields=all', {}],
    ['a malformed x-min-position', '/sticky-notes/g-1', { 'x-min-position': 'soon' }],
  ])('refuses %s with 400, reading nothing', async (_name, url, headers) => {
    harness = await start();
    expectProblem(await get(url, headers), 400, 'invalid-request');
    expect(harness.calls).toEqual([]);
  });
});

describe('read your writes: x-min-position', () => {
  it('waits until the projection reaches the position, then reads the read model, not the cache', async () => {
    harness = await start();
    await seed(doc('w-1'));
    await harness.setCheckpoint(STICKY_NOTES_PROJECTION, 5n);
    expect((await get('/sticky-notes/w-1')).json()).toMatchObject({ revision: 0 }); // cached now

    const pending = get('/sticky-notes/w-1', { 'x-min-position': '6' });
    // The read is waiting on the checkpoint: the "projector" writes the model, then the checkpoint.
    await vi.waitFor(() => expect(harness.calls).toContain('checkpoints.findOne'));
    await harness.readStore
      .collection(STICKY_NOTES)
      .bulkWrite([
        { updateOne: { filter: { _id: 'w-1' }, update: { $set: { ...samples.edit, revision: 1 } } } },
      ]);
    await harness.setCheckpoint(STICKY_NOTES_PROJECTION, 6n);

    const response = await pending;
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ ...samples.edit, revision: 1 });
  });

  it('answers 503 with Retry-After when the projection does not get there in time', async () => {
    harness = await start({ consistencyTimeoutMs: 100 });
    await seed(doc('w-2'));
    await harness.setCheckpoint(STICKY_NOTES_PROJECTION, 10n);
    const response = await get('/sticky-notes?status=active', { 'x-min-position': '11' });
    expectProblem(response, 503, 'consistency-timeout');
    expect(response.headers['retry-after']).toBe('1');
  });
});
