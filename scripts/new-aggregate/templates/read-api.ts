import type { AggregateNames } from '../names.js';

/** read-api/<plural>/<name>-views.ts: what the read API answers with. */
export const views = (n: AggregateNames) => `import { z } from 'zod';
import { ${n.pascal}Id } from '../../domain/${n.kebabPlural}/${n.kebab}.js';

// The read-model document minus its storage key. Parsing a cache entry with this schema also
// drops whatever else the entry may carry.
export const ${n.pascal}View = z
  .object({
    ${n.idField}: ${n.pascal}Id,
    name: z.string(),
    status: z.enum(['active', 'archived']),
    revision: z.number().int().nonnegative().describe('Revision of the ${n.words} stream this view reflects'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: '${n.pascal}' });
export type ${n.pascal}View = z.infer<typeof ${n.pascal}View>;

export const ${n.pascal}Params = z.strictObject({ id: ${n.pascal}Id });
`;

/** read-api/<plural>/<name>-reader.ts: one document, cache first. */
export const reader = (n: AggregateNames) => `import {
  ${n.constantPlural},
  type ${n.pascal}Document,
  ${n.camel}CacheKey,
} from '../../projections/${n.kebabPlural}/${n.kebabPlural}-projection.js';
import type { CacheAside } from '../cache/cache-aside.js';
import type { ReadStores } from '../query-module.js';
import type { DocumentView } from '../views/document-views.js';
import { ${n.pascal}View } from './${n.kebab}-views.js';

export const to${n.pascal}View = (doc: ${n.pascal}Document): ${n.pascal}View => ({
  ${n.idField}: doc.${n.idField},
  name: doc.name,
  status: doc.status,
  revision: doc.revision,
  createdAt: doc.createdAt,
  updatedAt: doc.updatedAt,
});

/**
 * One ${n.words}, cache first. \`fresh\` skips the cache and reads the consistent store: a read that
 * waited for a position trusts only the read model its checkpoint vouches for; a cache entry (or a
 * lagging replica) carries no position. A miss fills the cache with version = revision, so it never
 * replaces a newer entry the projector wrote meanwhile. A document that \`view\` finds invalid is
 * answered as absent, and not cached.
 */
export const create${n.pascal}Reader =
  (deps: {
    readStores: ReadStores;
    cacheAside: CacheAside;
    view: DocumentView<${n.pascal}Document, ${n.pascal}View>;
  }) =>
  async (${n.idField}: string, { fresh }: { fresh: boolean }): Promise<${n.pascal}View | undefined> => {
    const key = ${n.camel}CacheKey(${n.idField});
    if (!fresh) {
      const cached = await deps.cacheAside.get(key, ${n.pascal}View);
      if (cached !== undefined) return cached;
    }
    const store = fresh ? deps.readStores.consistent : deps.readStores.usual;
    const doc = await store.collection<${n.pascal}Document>(${n.constantPlural}).findOne({ _id: ${n.idField} });
    const view = doc === null ? undefined : deps.view(doc);
    if (view === undefined) return undefined;
    deps.cacheAside.fill(key, view, view.revision);
    return view;
  };

export type ${n.pascal}Reader = ReturnType<typeof create${n.pascal}Reader>;
`;

/** read-api/<plural>/<name>-query-routes.ts: GET /<plural>/:id. */
export const queryRoutes = (n: AggregateNames) => `import { z } from 'zod';
import type { HttpApp } from '../../infra/http/create-http-app.js';
import { HttpProblem } from '../../infra/http/problem-details.js';
import {
  ${n.constantPlural},
  ${n.constantPlural}_PROJECTION,
} from '../../projections/${n.kebabPlural}/${n.kebabPlural}-projection.js';
import { notModifiedResponse, problemResponse } from '../http/problem-responses.js';
import type { QueryContext } from '../query-module.js';
import { create${n.pascal}Reader, to${n.pascal}View } from './${n.kebab}-reader.js';
import { ${n.pascal}Params, ${n.pascal}View } from './${n.kebab}-views.js';

/** GET /${n.kebabPlural}/:id, with what every query route reads with (the query context). */
export const ${n.camel}QueryRoutes = (
  app: HttpApp,
  { readStores, cacheAside, documentViews, consistent, headers, consistencyTimeoutMs }: QueryContext,
) => {
  const ${n.camel}View = documentViews(${n.constantPlural}, ${n.pascal}View, to${n.pascal}View);
  const read${n.pascal} = create${n.pascal}Reader({ readStores, cacheAside, view: ${n.camel}View });
  app.get(
    '/${n.kebabPlural}/:id',
    {
      schema: {
        tags: ['${n.kebabPlural}: queries'],
        summary: 'Get a ${n.words}',
        headers,
        params: ${n.pascal}Params,
        // No query parameters: an unknown one is refused, not ignored.
        querystring: z.strictObject({}),
        response: {
          200: ${n.pascal}View,
          304: notModifiedResponse,
          400: problemResponse('A path, query or header value is malformed or unknown; nothing was read'),
          404: problemResponse('No such ${n.words} (or the read model has not seen it yet: send x-min-position)'),
          503: problemResponse(
            \`x-min-position was not reached within READ_CONSISTENCY_TIMEOUT_MS (here \${consistencyTimeoutMs} ms); \` +
              'retry after the Retry-After seconds',
          ),
        },
      },
    },
    async (request, reply) => {
      // Waits for x-min-position when the request carries one; true then: read fresh, not cached.
      const fresh = await consistent(request, reply, [${n.constantPlural}_PROJECTION]);
      const view = await read${n.pascal}(request.params.id, { fresh });
      if (view === undefined)
        throw new HttpProblem(404, '${n.kebab}-not-found', '${n.words} not found', \`no ${n.words} \${request.params.id}\`);
      return view;
    },
  );
};
`;

/** read-api/<plural>/<name>-query-routes.test.ts: the route through registerReadApi, on the harness. */
export const queryRoutesTest = (
  n: AggregateNames,
) => `import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ${n.constantPlural},
  ${n.constantPlural}_PROJECTION,
  type ${n.pascal}Document,
  ${n.camel}CacheKey,
} from '../../projections/${n.kebabPlural}/${n.kebabPlural}-projection.js';
import { type Harness, startReadApi } from '../testing/read-api-harness.js';
import { ${n.camel}Queries } from './index.js';

let harness: Harness;
afterEach(() => harness?.close());

const get = (url: string, headers: Record<string, string> = {}) =>
  harness.app.inject({ method: 'GET', url, headers });

const doc = (${n.idField}: string, fields: Partial<${n.pascal}Document> = {}): ${n.pascal}Document => ({
  _id: ${n.idField},
  ${n.idField},
  name: 'First',
  status: 'active',
  revision: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...fields,
});

const seed = (...docs: ${n.pascal}Document[]) =>
  harness.readStore.collection(${n.constantPlural}).bulkWrite(docs.map((document) => ({ insertOne: { document } })));

const expectProblem = (response: Awaited<ReturnType<typeof get>>, status: number, type: string) => {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\\/problem\\+json/);
  expect(response.json()).toMatchObject({ status, type: \`urn:eventfold:problem:\${type}\` });
};

describe('GET /${n.kebabPlural}/:id', () => {
  it('answers the view, without storage keys, with an ETag', async () => {
    harness = await startReadApi({ queries: [${n.camel}Queries] });
    await seed(doc('g-1', { name: 'Second', revision: 1 }));
    const response = await get('/${n.kebabPlural}/g-1');
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toMatch(/^"[^"]+"$/);
    const { _id, ...view } = doc('g-1', { name: 'Second', revision: 1 });
    expect(response.json()).toEqual(view);
  });

  it('answers 404 problem+json for an unknown ${n.words}', async () => {
    harness = await startReadApi({ queries: [${n.camel}Queries] });
    expectProblem(await get('/${n.kebabPlural}/nobody'), 404, '${n.kebab}-not-found');
  });

  it('answers 404 for a document that does not match the view, counts it and caches nothing', async () => {
    harness = await startReadApi({ queries: [${n.camel}Queries] });
    await seed(doc('bad-1', { status: 'lost' as ${n.pascal}Document['status'] }));
    expectProblem(await get('/${n.kebabPlural}/bad-1'), 404, '${n.kebab}-not-found');
    expect(harness.readApi.stats()).toMatchObject({ invalidDocuments: 1, cacheFills: 0 });
    expect(harness.calls).not.toContain(\`cache.set \${${n.camel}CacheKey('bad-1')}\`);
  });

  it('misses, reads the read model and fills the cache; then hits', async () => {
    harness = await startReadApi({ queries: [${n.camel}Queries] });
    await seed(doc('c-1', { revision: 4 }));
    expect((await get('/${n.kebabPlural}/c-1')).statusCode).toBe(200);
    const key = ${n.camel}CacheKey('c-1');
    expect(harness.calls).toEqual([\`cache.get \${key}\`, '${n.snakePlural}.findOne', \`cache.set \${key}\`]);
    await vi.waitFor(() => expect(harness.readApi.stats().cacheFills).toBe(1));

    harness.calls.length = 0;
    expect((await get('/${n.kebabPlural}/c-1')).json()).toMatchObject({ revision: 4 });
    expect(harness.calls).toEqual([\`cache.get \${key}\`]);
  });

  it.each([
    ['a malformed id', '/${n.kebabPlural}/a%20b', {}],
    ['an unknown query parameter', '/${n.kebabPlural}/g-1?fields=name', {}],
    ['a malformed x-min-position', '/${n.kebabPlural}/g-1', { 'x-min-position': 'soon' }],
  ])('refuses %s with 400, reading nothing', async (_name, url, headers) => {
    harness = await startReadApi({ queries: [${n.camel}Queries] });
    expectProblem(await get(url, headers), 400, 'invalid-request');
    expect(harness.calls).toEqual([]);
  });
});

describe('GET /${n.kebabPlural}/:id with x-min-position', () => {
  it('waits until the projection reaches the position, then reads the read model, not the cache', async () => {
    harness = await startReadApi({ queries: [${n.camel}Queries] });
    await seed(doc('w-1', { revision: 0 }));
    await harness.setCheckpoint(${n.constantPlural}_PROJECTION, 5n);
    expect((await get('/${n.kebabPlural}/w-1')).json()).toMatchObject({ name: 'First' }); // cached now

    const pending = get('/${n.kebabPlural}/w-1', { 'x-min-position': '6' });
    // The read is waiting on the checkpoint: the "projector" writes the model, then the checkpoint.
    await vi.waitFor(() => expect(harness.calls).toContain('checkpoints.findOne'));
    await harness.readStore
      .collection(${n.constantPlural})
      .bulkWrite([{ updateOne: { filter: { _id: 'w-1' }, update: { $set: { name: 'Second', revision: 1 } } } }]);
    await harness.setCheckpoint(${n.constantPlural}_PROJECTION, 6n);

    const response = await pending;
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ name: 'Second', revision: 1 });
  });

  it('answers 503 with Retry-After when the projection does not get there in time', async () => {
    harness = await startReadApi({ queries: [${n.camel}Queries], consistencyTimeoutMs: 100 });
    await seed(doc('w-2'));
    await harness.setCheckpoint(${n.constantPlural}_PROJECTION, 10n);
    const response = await get('/${n.kebabPlural}/w-2', { 'x-min-position': '11' });
    expectProblem(response, 503, 'consistency-timeout');
    expect(response.headers['retry-after']).toBe('1');
  });
});
`;

/**
 * read-api/<plural>/<name>-read-your-writes.test.ts: end to end through the module list (app/modules.ts):
 * the write API, the app's projectors and the read API.
 */
export const readYourWritesTest = (
  n: AggregateNames,
) => `import { afterEach, describe, expect, it } from 'vitest';
import { type InProcessApp, startInProcessApp } from '../../app/testing/in-process-app.js';

let running: InProcessApp | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe('${n.kebabPlural}: read your writes', () => {
  it('shows each command on the read that carries its position', async () => {
    running = await startInProcessApp();
    const { app } = running;

    const command = async (url: string, payload: object = {}) => {
      const response = await app.inject({ method: 'POST', url, payload });
      expect(response.statusCode).toBeLessThan(300);
      return response.json().position as string;
    };
    const read = async (position: string) => {
      const response = await app.inject({ url: '/${n.kebabPlural}/e-1', headers: { 'x-min-position': position } });
      expect(response.statusCode).toBe(200);
      return response.json();
    };

    const created = await command('/${n.kebabPlural}', { ${n.idField}: 'e-1', name: 'First' });
    expect(await read(created)).toMatchObject({ ${n.idField}: 'e-1', name: 'First', status: 'active', revision: 0 });
    expect(await read(await command('/${n.kebabPlural}/e-1/rename', { name: 'Second' }))).toMatchObject({
      name: 'Second',
      revision: 1,
    });
    expect(await read(await command('/${n.kebabPlural}/e-1/archive'))).toMatchObject({
      status: 'archived',
      revision: 2,
    });
  });
});
`;

/** read-api/<plural>/index.ts: the module's part of the read API. */
export const readApiIndex = (
  n: AggregateNames,
) => `/** The ${n.kebabPlural} module's part of the read API (composed into the module in app/modules/${n.kebabPlural}.ts). */
export { ${n.camel}QueryRoutes as ${n.camel}Queries } from './${n.kebab}-query-routes.js';
`;
