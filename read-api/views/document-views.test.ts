import { afterEach, describe, expect, it, vi } from 'vitest';
import { COUNTER_CHANGES, COUNTERS } from '../../projections/engine/testing/fixture-projection.js';
import { changeDoc, counterDoc, fixtureQueryRoutes } from '../testing/fixture-query-routes.js';
import { type Harness, startReadApi } from '../testing/read-api-harness.js';

/**
 * A read-model document that does not match its view (here: what a revision-guarded upsert made of
 * an increment whose CounterOpened never projected) is answered as absent, logged and counted:
 * never a 5xx, neither for itself nor for the list pages it falls on. On the fixture's routes.
 */
let harness: Harness;
afterEach(() => harness?.close());

const get = (url: string) => harness.app.inject({ method: 'GET', url });

/** No owner, status or openedAt: only the fields an increment sets. */
const holeyCounter = (counterId: string) => {
  const { owner, status, openedAt, ...rest } = counterDoc(counterId, { total: 500, revision: 1 });
  return rest as ReturnType<typeof counterDoc>;
};

describe('documents that do not match their view', () => {
  it('GET one answers 404, logs the document id, counts it, and caches nothing', async () => {
    harness = await startReadApi({ queries: [fixtureQueryRoutes] });
    const logged = vi.spyOn(harness.app.log, 'error');
    await harness.seed(COUNTERS, [holeyCounter('holey')]);
    const response = await get('/counters/holey');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ type: 'urn:eventfold:problem:counter-not-found' });
    expect(harness.readApi.stats()).toMatchObject({ invalidDocuments: 1, cacheFills: 0 });
    expect(logged).toHaveBeenCalledWith(
      expect.objectContaining({ collection: COUNTERS, id: 'holey' }),
      expect.stringContaining('does not match its view'),
    );
    expect(harness.calls).not.toContain('cache.set counter:holey');
  });

  it('a list leaves it out, and pages on past it', async () => {
    harness = await startReadApi({ queries: [fixtureQueryRoutes] });
    await harness.seed(COUNTERS, [counterDoc('a'), holeyCounter('b'), counterDoc('c')]);
    const all = await get('/counters');
    expect(all.statusCode).toBe(200);
    expect(all.json().items.map((item: { counterId: string }) => item.counterId)).toEqual(['a', 'c']);

    const ids: string[] = [];
    let url = '/counters?limit=1';
    for (;;) {
      const page = await get(url);
      expect(page.statusCode).toBe(200);
      const { items, nextCursor } = page.json();
      ids.push(...items.map((item: { counterId: string }) => item.counterId));
      if (nextCursor === null) break;
      url = `/counters?limit=1&cursor=${nextCursor}`;
    }
    expect(ids).toEqual(['a', 'c']);
    expect(harness.readApi.stats().invalidDocuments).toBeGreaterThanOrEqual(2);
  });

  it('a list of another collection leaves an invalid row out', async () => {
    harness = await startReadApi({ queries: [fixtureQueryRoutes] });
    await harness.seed(COUNTERS, [counterDoc('a', { revision: 3 })]);
    await harness.seed(COUNTER_CHANGES, [
      changeDoc('a', 1),
      changeDoc('a', 2, { kind: 'reset' as 'increment' }),
      changeDoc('a', 3),
    ]);
    const response = await get('/counters/a/changes');
    expect(response.statusCode).toBe(200);
    expect(response.json().items.map((item: { revision: number }) => item.revision)).toEqual([1, 3]);
    expect(harness.readApi.stats().invalidDocuments).toBe(1);
  });
});
