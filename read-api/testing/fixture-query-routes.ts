import { z } from 'zod';
import { CounterId } from '../../domain/shared/testing/counter.js';
import type { HttpApp } from '../../infra/http/create-http-app.js';
import { HttpProblem } from '../../infra/http/problem-details.js';
import {
  COUNTER_CHANGES,
  COUNTER_CHANGES_PROJECTION,
  COUNTERS,
  COUNTERS_PROJECTION,
  type CounterChangeDocument,
  type CounterDocument,
  counterCacheKey,
} from '../../projections/engine/testing/fixture-projection.js';
import { pageOf, pageQuery, toPage } from '../http/page.js';
import { decodeCursor } from '../http/page-cursor.js';
import { notModifiedResponse, problemResponse } from '../http/problem-responses.js';
import type { QueryContext, QueryRoutes } from '../query-module.js';

/**
 * The read API's fixture routes, over the fixture read models (projections/engine/testing/
 * fixture-projection.ts): what the read API's own tests (cache-aside, ETags, x-min-position,
 * document views, pages) and the system tests read through, so that they need no example.
 *
 *   GET /counters/:id           cache first, then the `counters` read model
 *   GET /counters?owner=        a page of counters, by owner, in id order
 *   GET /counters/:id/changes   a page of a counter's changes (waits for both projections)
 */

export const CounterView = z
  .object({
    counterId: CounterId,
    owner: z.string(),
    total: z.number().int().nonnegative(),
    status: z.enum(['open', 'closed']),
    revision: z.number().int().nonnegative(),
    openedAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'FixtureCounter' });
export const CounterChangeView = z
  .object({
    revision: z.number().int().nonnegative(),
    kind: z.enum(['increment', 'decrement']),
    amount: z.number().int().positive(),
    totalAfter: z.number().int().nonnegative(),
    note: z.string().nullable(),
    at: z.string(),
  })
  .meta({ id: 'FixtureCounterChange' });

const Params = z.strictObject({ id: CounterId });
const NoQuery = z.strictObject({});
const ListQuery = z.strictObject({ owner: z.string().min(1).max(200).optional(), ...pageQuery });
const ChangesQuery = z.strictObject(pageQuery);
const tags = ['fixture: queries'];

const notFound = (id: string) =>
  new HttpProblem(404, 'counter-not-found', 'counter not found', `no counter ${id}`);

export const fixtureQueryRoutes: QueryRoutes = (
  app: HttpApp,
  { readStores, cacheAside, documentViews, consistent, headers, consistencyTimeoutMs }: QueryContext,
) => {
  const counterView = documentViews<CounterDocument, z.infer<typeof CounterView>>(
    COUNTERS,
    CounterView,
    ({ _id, ...view }) => view,
  );
  const changeView = documentViews<CounterChangeDocument, z.infer<typeof CounterChangeView>>(
    COUNTER_CHANGES,
    CounterChangeView,
    ({ _id, counterId, ...view }) => view,
  );
  const store = (fresh: boolean) => readStores[fresh ? 'consistent' : 'usual'];
  const readCounter = async (id: string, fresh: boolean) => {
    if (!fresh) {
      const cached = await cacheAside.get(counterCacheKey(id), CounterView);
      if (cached !== undefined) return cached;
    }
    const doc = await store(fresh).collection<CounterDocument>(COUNTERS).findOne({ _id: id });
    const view = doc === null ? undefined : counterView(doc);
    if (view !== undefined) cacheAside.fill(counterCacheKey(id), view, view.revision);
    return view;
  };
  const common = {
    304: notModifiedResponse,
    400: problemResponse('A path, query or header value is malformed or unknown'),
    503: problemResponse(`x-min-position was not reached within ${consistencyTimeoutMs} ms`),
  };

  app.get(
    '/counters/:id',
    {
      schema: {
        tags,
        headers,
        params: Params,
        querystring: NoQuery,
        response: { 200: CounterView, ...common, 404: problemResponse('No such counter') },
      },
    },
    async (request, reply) => {
      const fresh = await consistent(request, reply, [COUNTERS_PROJECTION]);
      const counter = await readCounter(request.params.id, fresh);
      if (counter === undefined) throw notFound(request.params.id);
      return counter;
    },
  );

  app.get(
    '/counters',
    { schema: { tags, headers, querystring: ListQuery, response: { 200: pageOf(CounterView), ...common } } },
    async (request, reply) => {
      const { owner, limit, cursor } = request.query;
      const scope = JSON.stringify(['counters', owner ?? null]);
      const after = cursor === undefined ? undefined : decodeCursor(cursor, scope, CounterId);
      const fresh = await consistent(request, reply, [COUNTERS_PROJECTION]);
      const rows = await store(fresh)
        .collection<CounterDocument>(COUNTERS)
        .find(
          {
            ...(owner !== undefined && { owner }),
            ...(after !== undefined && { _id: { $gt: after } }),
          },
          { sort: { _id: 1 }, limit: limit + 1 },
        );
      return toPage(rows, limit, counterView, (row) => row._id, scope);
    },
  );

  app.get(
    '/counters/:id/changes',
    {
      schema: {
        tags,
        headers,
        params: Params,
        querystring: ChangesQuery,
        response: {
          200: pageOf(CounterChangeView),
          ...common,
          404: problemResponse('No such counter'),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { limit, cursor } = request.query;
      const scope = JSON.stringify(['counter-changes', id]);
      const after =
        cursor === undefined ? undefined : decodeCursor(cursor, scope, z.number().int().nonnegative());
      const fresh = await consistent(request, reply, [COUNTERS_PROJECTION, COUNTER_CHANGES_PROJECTION]);
      if ((await readCounter(id, fresh)) === undefined) throw notFound(id);
      const rows = await store(fresh)
        .collection<CounterChangeDocument>(COUNTER_CHANGES)
        .find(
          { counterId: id, ...(after !== undefined && { revision: { $gt: after } }) },
          { sort: { revision: 1 }, limit: limit + 1 },
        );
      return toPage(rows, limit, changeView, (row) => row.revision, scope);
    },
  );
};

/** A `counters` document as the projection writes it, for seeding a read model. */
export const counterDoc = (counterId: string, fields: Partial<CounterDocument> = {}): CounterDocument => ({
  _id: counterId,
  counterId,
  owner: 'Ada',
  total: 0,
  status: 'open',
  revision: 0,
  openedAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...fields,
});

/** A `counter_changes` document: an increment of 10 per revision, unless told otherwise. */
export const changeDoc = (
  counterId: string,
  revision: number,
  fields: Partial<CounterChangeDocument> = {},
): CounterChangeDocument => ({
  _id: `${counterId}:${revision}`,
  counterId,
  revision,
  kind: 'increment',
  amount: 10,
  totalAfter: 10 * revision,
  note: `note-${revision}`,
  at: '2026-01-02T00:00:00.000Z',
  ...fields,
});
