import { afterEach, describe, expect, it } from 'vitest';
import { loadAppConfig } from '../../app/config.js';
import { type AnyModule, commandRoutesOf, openApiTagsOf, queryRoutesOf } from '../../app/module.js';
import { modules as appModules } from '../../app/modules.js';
import { fixtureModule } from '../../app/testing/fixture-module.js';
import { registerCommandApi } from '../../commands/command-api.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { type Harness, startReadApi } from '../testing/read-api-harness.js';

let harness: Harness;
afterEach(() => harness?.close());

/**
 * Every route the modules serve that is not hidden from the docs, as "METHOD /openapi/{path}",
 * with the tags they are listed under.
 */
const startWithEveryRoute = async (modules: readonly AnyModule[] = [fixtureModule]) => {
  const routes: string[] = [];
  const tags = new Set<string>();
  harness = await startReadApi({
    queries: queryRoutesOf(modules),
    openApiTags: openApiTagsOf(modules),
    consistencyTimeoutMs: 1234,
    withApp: (app) => {
      app.addHook('onRoute', (route) => {
        const methods = [route.method].flat().filter((method) => method !== 'HEAD');
        const hidden = (route.schema as { hide?: boolean } | undefined)?.hide === true;
        if (!hidden)
          for (const method of methods) routes.push(`${method} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
        for (const tag of (route.schema as { tags?: string[] } | undefined)?.tags ?? []) tags.add(tag);
      });
      registerCommandApi(app, {
        eventStore: createMemoryEventStore(),
        maxRetries: 1,
        routes: commandRoutesOf(modules, loadAppConfig({}, modules)),
      });
    },
  });
  return { routes, tags };
};

const lists: [string, readonly AnyModule[]][] = [
  ['the fixture module', [fixtureModule]],
  ["the app's modules (app/modules.ts)", appModules],
];

describe.each(lists)('API docs of %s', (_name, modules) => {
  it('/openapi.json documents every route, write and read, from the route schemas', async () => {
    const { routes } = await startWithEveryRoute(modules);
    const response = await harness.app.inject({ url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const spec = response.json();
    expect(spec.openapi).toMatch(/^3\.1/);
    const documented = Object.entries(spec.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual([...routes].sort());
  });

  it('describes every tag a route is listed under, each declared by one module', async () => {
    const { tags } = await startWithEveryRoute(modules);
    const spec = (await harness.app.inject({ url: '/openapi.json' })).json() as {
      tags?: { name: string; description: string }[];
    };
    const declared = (spec.tags ?? []).map((tag) => tag.name);
    expect(new Set(declared).size).toBe(declared.length);
    expect([...tags].sort()).toEqual([...declared].sort());
    for (const tag of spec.tags ?? []) expect(tag.description.length, tag.name).toBeGreaterThan(0);
  });
});

describe('API docs', () => {
  it("documents each route's schemas: responses, the x-min-position header, query parameters, components", async () => {
    await startWithEveryRoute();
    const spec = (await harness.app.inject({ url: '/openapi.json' })).json();
    const documented = Object.entries(spec.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented).toEqual(
      expect.arrayContaining([
        'POST /counters',
        'POST /counters/{id}/increments',
        'POST /counters/{id}/decrements',
        'POST /jobs',
        'GET /counters',
        'GET /counters/{id}',
        'GET /counters/{id}/changes',
      ]),
    );

    const getCounter = spec.paths['/counters/{id}'].get;
    expect(getCounter.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/FixtureCounter',
    });
    expect(Object.keys(getCounter.responses).sort()).toEqual(['200', '304', '400', '404', '503']);
    expect(getCounter.responses['503'].content).toHaveProperty('application/problem+json');
    const minPosition = getCounter.parameters.find((p: { name: string }) => p.name === 'x-min-position');
    expect(minPosition).toMatchObject({ in: 'header', required: false });
    expect(minPosition.description).toContain('READ_CONSISTENCY_TIMEOUT_MS (here 1234 ms)');

    const listQuery = spec.paths['/counters'].get.parameters
      .filter((p: { in: string }) => p.in === 'query')
      .map((p: { name: string }) => p.name);
    expect(listQuery.sort()).toEqual(['cursor', 'limit', 'owner']);
    expect(Object.keys(spec.components.schemas)).toEqual(
      expect.arrayContaining(['FixtureCounter', 'FixtureCounterChange', 'FixtureCommandAccepted']),
    );
    expect(spec.tags.map((tag: { name: string }) => tag.name)).toEqual(
      expect.arrayContaining(['fixture: commands', 'fixture: queries']),
    );
  });

  it('/docs serves a reference page whose assets all come from this server', async () => {
    await startWithEveryRoute();
    const page = await harness.app.inject({ url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] as string);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      expect(asset).toMatch(/^\/docs\//);
      expect((await harness.app.inject({ url: asset })).statusCode).toBe(200);
    }
    const initializer = await harness.app.inject({ url: '/docs/static/swagger-initializer.js' });
    // The spec comes from this server, and the online spec validator (the one call out) is off.
    expect(initializer.body).toContain("url: resolveUrl('./json')");
    expect(initializer.body).toMatch(/validatorUrl: null/);
    const json = await harness.app.inject({ url: '/docs/json' });
    expect(json.json().paths).toHaveProperty('/counters/{id}');
  });
});
