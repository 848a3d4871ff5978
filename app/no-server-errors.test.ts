import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminHeaders, bearer, testAuthentication } from '../infra/auth/testing/test-tokens.js';
import type { HttpApp } from '../infra/http/create-http-app.js';
import { createLogger } from '../infra/logger.js';
import { loadAppConfig } from './config.js';
import type { AnyModule } from './module.js';
import { modules as appModules } from './modules.js';
import { type System, startSystem } from './system.js';
import { fixtureModule } from './testing/fixture-module.js';

/**
 * "No input may produce a 5xx", tested as a property: the whole system, as `npm start` runs it,
 * answers random requests with a status below 500, and every error is a problem document.
 *
 * The requests are built from the routes the started app registered, read from Fastify
 * (printRoutes): each method and path, its path parameters filled with random segments, its
 * query parameters and body fields named as /openapi.json documents them, with values well-formed
 * and not; and, besides, other methods, unknown paths and malformed bodies. The test fails when
 * the app registered no route of a module, so it cannot pass by testing nothing.
 *
 * It runs on the engines' fixture module, and on the app's modules (app/modules.ts), skipped with
 * the reason when that list is empty. FUZZ_RUNS sets the runs per app; FUZZ_SEED replays a run.
 */

export type Route = { method: string; url: string };

/** The routes of `app`, from printRoutes' tree: each node's segment joined to its parents'. */
export const registeredRoutes = (app: HttpApp): Route[] => {
  const routes: Route[] = [];
  const path: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const node = /^((?:[│ ] {3})*)[├└]── (.*) \(([^)]*)\)$/.exec(line);
    if (!node) continue;
    const [, indent = '', segment = '', methods = ''] = node;
    const depth = indent.length / 4;
    path.length = depth;
    path.push(segment);
    for (const method of methods.split(', '))
      if (method !== '-' && method !== 'HEAD') routes.push({ method, url: path.join('') });
  }
  return routes;
};

/** The system's own routes, which every app has: health, metrics, API docs. */
const isSystemRoute = ({ url }: Route) => /^\/(health|metrics|openapi\.json|docs)(\/|$)/.test(url);

type Schema = { type?: string; properties?: Record<string, Schema>; required?: string[] };
type OpenApi = {
  paths?: Record<
    string,
    Record<
      string,
      {
        parameters?: { name: string; in: string }[];
        requestBody?: { content?: Record<string, { schema?: Schema }> };
      }
    >
  >;
};

/** What /openapi.json says of a route: its query parameters, and its body's fields with their types. */
const documented = (spec: OpenApi, { method, url }: Route) => {
  const operation = spec.paths?.[url.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
  const body = operation?.requestBody?.content?.['application/json']?.schema;
  return {
    query: (operation?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
    body: Object.entries(body?.properties ?? {}).map(([name, schema]) => ({ name, type: schema.type })),
    required: body?.required ?? [],
  };
};

const ids = ['ada', 'bob', 'nobody', 'j1'];
const segment = fc.oneof(
  fc.constantFrom(...ids, '', '..', '%00', '%2F', '%E0%A4%A', 'a'.repeat(300), '$where', '__proto__'),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
);
/** Values that a field of this JSON type would take, often enough for a command to be accepted. */
const plausible = (type: string | undefined) =>
  type === 'integer' || type === 'number'
    ? fc.constantFrom(1, 5, 10, 100, 1000)
    : type === 'string'
      ? fc.constantFrom(...ids, 'Ada', 'EUR', 'note')
      : fc.constantFrom(...ids, 1, 10);
/** Values for query parameters and body fields: plausible ones, edge cases, and anything. */
const value = fc.oneof(
  fc.constantFrom(...ids, 'Ada', 'EUR', 'USD', 'eur', 'XXX', 'open', 'closed', '', '[]', '{"$ne":1}'),
  fc.constantFrom(0, -1, 1, 10, 1000, 2 ** 53, Number.MAX_SAFE_INTEGER, 1e12, 1e13),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 30 }),
  fc.boolean(),
  fc.constant(null),
  fc.object({ maxDepth: 1 }),
);
/** A value as a query string carries it: strings as they are, anything else as JSON. */
const asText = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
const genericQueryKeys = ['limit', 'cursor', 'owner[$ne]', 'limit[]', 'x', '__proto__'];
const headers = fc.record(
  {
    'x-min-position': fc.oneof(
      fc.constantFrom('1', '0', '-1', '99999999999999999999999', 'abc', ''),
      fc.string(),
    ),
    'idempotency-key': fc.oneof(fc.constantFrom('k1', 'k2'), fc.string({ maxLength: 300 })),
    'if-none-match': fc.string({ maxLength: 40 }),
    prefer: fc.constantFrom('wait=1', 'wait=x', 'wait=-1', 'respond-async', ''),
    'x-correlation-id': fc.string({ maxLength: 200 }),
  },
  { requiredKeys: [] },
);

/**
 * Who asks: mostly an admin or the owner of the seeded data (so requests get past authentication
 * and reach the routes), sometimes someone else, nobody, or a token that does not verify.
 */
const authorizations = [
  bearer('test-admin', ['admin']),
  bearer('ada'),
  bearer('mallory'),
  'Bearer not.a.token',
  'Basic YWRhOmFkYQ==',
];
const authorization = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...authorizations.slice(0, 2)) },
  { weight: 2, arbitrary: fc.constantFrom(...authorizations.slice(2)) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

/** Random requests for `routes`, as `inject` takes them. */
const requestsFor = (routes: readonly Route[], spec: OpenApi) => {
  const forRoute = (route: Route) => {
    const names = documented(spec, route);
    const path = fc
      .tuple(
        ...route.url
          .split('/')
          .map((part) => (part.startsWith(':') || part === '*' ? segment : fc.constant(part))),
      )
      .map((parts) => parts.join('/'));
    const queryKey = fc.constantFrom(...names.query, ...genericQueryKeys);
    const query = fc
      .array(fc.tuple(queryKey, value), { maxLength: 4 })
      .map((pairs) =>
        pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(asText(v))}`).join('&'),
      );
    const fields = Object.fromEntries(
      names.body.map(({ name, type }) => [name, fc.oneof({ weight: 3, arbitrary: plausible(type) }, value)]),
    );
    const body = fc.oneof(
      // The required fields, often with plausible values: requests that get past validation.
      {
        weight: 3,
        arbitrary: fc.record(fields, { requiredKeys: names.required.filter((k) => k in fields) }),
      },
      { weight: 1, arbitrary: fc.record({ ...fields, x: value }, { requiredKeys: [] }) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    );
    return fc.record({
      method: fc.oneof(
        { weight: 4, arbitrary: fc.constant(route.method) },
        { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH') },
      ),
      path,
      query,
      headers,
      authorization,
      payload: fc.option(
        fc.oneof(
          { weight: 4, arbitrary: body.map((b) => JSON.stringify(b)) },
          { weight: 1, arbitrary: fc.string({ maxLength: 50 }) },
        ),
        { nil: undefined, freq: 4 },
      ),
      contentType: fc.oneof(
        { weight: 3, arbitrary: fc.constant('application/json') },
        fc.constantFrom('text/plain', 'application/json; charset=utf-8', undefined),
      ),
    });
  };
  const unknownPath = fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
    path: fc.oneof(
      fc.constant('/nowhere'),
      segment.map((s) => `/${s}`),
    ),
    query: fc.constant(''),
    headers,
    authorization,
    payload: fc.option(fc.string({ maxLength: 50 }), { nil: undefined }),
    contentType: fc.constantFrom('application/json', undefined),
  });
  const moduleRoutes = routes.filter((route) => !isSystemRoute(route));
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...moduleRoutes).chain(forRoute) },
    { weight: 1, arbitrary: fc.constantFrom(...routes.filter(isSystemRoute)).chain(forRoute) },
    { weight: 1, arbitrary: unknownPath },
  );
};

const suites: { name: string; modules: readonly AnyModule[]; seed?: (system: System) => Promise<void> }[] = [
  {
    name: "the engines' fixture module",
    modules: [fixtureModule],
    seed: async (system) => {
      const post = (url: string, payload: object) =>
        system.app.inject({ method: 'POST', url, payload, headers: adminHeaders() });
      await post('/counters', { counterId: 'ada', owner: 'Ada' });
      await post('/counters', { counterId: 'bob', owner: 'Bob' });
      await post('/counters/ada/increments', { amount: 1000 });
      await post('/jobs', { jobId: 'j1', tallyId: 'ada', amount: 1 });
    },
  },
  { name: "the app's modules (app/modules.ts)", modules: appModules },
];

for (const suite of suites) {
  const empty = suite.modules.length === 0;
  if (empty)
    console.warn(
      `skipped: no input produces a 5xx, on ${suite.name} — the list is empty (after npm run example:remove; add a module with npm run new-aggregate)`,
    );

  describe.skipIf(empty)(`no input produces a 5xx, on ${suite.name}`, () => {
    let dir: string;
    let system: System;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'eventfold-fuzz-'));
      const config = loadAppConfig(
        {
          PORT: '0',
          HOST: '127.0.0.1',
          DATA_DIR: dir,
          // Keep waits short: a random x-min-position far ahead must time out quickly (a 503 it may be).
          READ_CONSISTENCY_TIMEOUT_MS: '20',
          // A module's own waits, such as Prefer: wait on a command, are capped by settings of its
          // own; here they answer at once.
          ...(suite.modules.some((module) => module.name === 'transfers') && {
            TRANSFER_WAIT_MAX_SECONDS: '0',
          }),
        },
        suite.modules,
      );
      system = await startSystem(config, createLogger({ level: 'silent' }), {
        modules: suite.modules,
        auth: testAuthentication,
      });
      await suite.seed?.(system);
    });
    afterAll(async () => {
      await system?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('finds the routes of its modules among those the app registered', () => {
      const routes = registeredRoutes(system.app);
      expect(routes.filter(isSystemRoute).map((route) => route.url)).toEqual(
        expect.arrayContaining(['/health/live', '/health/ready', '/metrics', '/openapi.json']),
      );
      expect(routes.filter((route) => !isSystemRoute(route)).length, 'routes of the modules').toBeGreaterThan(
        0,
      );
    });

    it('answers every request below 500, with problem documents for errors', async () => {
      const routes = registeredRoutes(system.app);
      if (!routes.some((route) => !isSystemRoute(route)))
        throw new Error('the app registered no module route');
      const spec = (await system.app.inject({ url: '/openapi.json' })).json() as OpenApi;
      await fc.assert(
        fc.asyncProperty(
          requestsFor(routes, spec),
          async ({ method, path, query, headers, payload, contentType, authorization }) => {
            // Header values must be valid HTTP header characters; anything else never reaches a server.
            const safeHeaders = Object.fromEntries(
              Object.entries(headers).filter(([, value]) => /^[\t\x20-\x7e]*$/.test(value as string)),
            ) as Record<string, string>;
            const response = await system.app.inject({
              method: method as 'GET',
              url: query ? `${path}?${query}` : path,
              headers: {
                ...safeHeaders,
                ...(authorization !== undefined && { authorization }),
                ...(contentType && payload !== undefined && { 'content-type': contentType }),
              },
              ...(payload !== undefined && method !== 'GET' && { payload }),
            });
            const context = `${method} ${path}?${query} -> ${response.statusCode} ${response.body.slice(0, 300)}`;
            // 503 is a chosen answer (a consistency wait timed out), never a crash; anything else 5xx is.
            if (response.statusCode === 503)
              expect(response.json().type, context).toBe('urn:eventfold:problem:consistency-timeout');
            else expect(response.statusCode, context).toBeLessThan(500);
            if (response.statusCode >= 400 && path !== '/health/ready')
              expect(response.headers['content-type'], context).toMatch(/^application\/problem\+json/);
          },
        ),
        {
          numRuns: Number(process.env.FUZZ_RUNS ?? 1000),
          seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined,
        },
      );
    });
  });
}
