import type { AggregateNames } from '../names.js';

/** commands/<plural>/<name>-routes.ts: the write API routes, through the shared command runner. */
export const commandRoutes = (n: AggregateNames) => `import { z } from 'zod';
import {
  Archive${n.pascal},
  Create${n.pascal},
  ${n.pascal}Id,
  ${n.camel}Aggregate,
  Rename${n.pascal},
} from '../../domain/${n.kebabPlural}/${n.kebab}.js';
import { positionToJson } from '../../infra/event-store/event-store.js';
import type { HttpApp } from '../../infra/http/create-http-app.js';
import { problemResponses } from '../../infra/http/problem-details.js';
import type { CommandRoutesContext } from '../command-module.js';
import type { CommandResult } from '../pipeline/handle-command.js';
import { CommandHeaders, idempotencyKeyOf } from '../pipeline/http-command.js';
import { idFromIdempotencyKey } from '../pipeline/idempotency.js';

// Request bodies are the domain commands minus what the URL says; strict, so an unknown field is
// a 400 rather than silently ignored.
const { type: _t1, ...createFields } = Create${n.pascal}.shape;
const { type: _t2, ${n.idField}: _i2, ...renameFields } = Rename${n.pascal}.shape;
export const Create${n.pascal}Body = z.strictObject({ ...createFields, ${n.idField}: ${n.pascal}Id.optional() });
export const Rename${n.pascal}Body = z.strictObject(renameFields);
export const ${n.pascal}Params = z.object({ id: ${n.pascal}Id });

export const ${n.pascal}CommandAccepted = z
  .object({
    ${n.idField}: ${n.pascal}Id,
    revision: z.number().int().describe('Revision of the ${n.words} stream after the command'),
    position: z
      .string()
      .describe(
        'Global position of the last event appended; send it back as x-min-position to read your write',
      ),
  })
  .meta({ id: '${n.pascal}CommandAccepted' });

const accepted = (${n.idField}: string) => (result: CommandResult) => ({
  ${n.idField},
  revision: result.revision,
  position: positionToJson(result.position),
});

const errors = problemResponses(400, 404, 409, 413, 415, 422);

const tags = ['${n.kebabPlural}: commands'];

export const ${n.camel}CommandRoutes = (app: HttpApp, { run }: CommandRoutesContext) => {
  app.post(
    '/${n.kebabPlural}',
    {
      schema: {
        tags,
        summary: 'Create a ${n.words}',
        headers: CommandHeaders,
        body: Create${n.pascal}Body,
        response: { 201: ${n.pascal}CommandAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const idempotencyKey = idempotencyKeyOf(request);
      const ${n.idField} = request.body.${n.idField} ?? idFromIdempotencyKey('${n.kebab}', idempotencyKey);
      return run(request, reply, {
        aggregate: ${n.camel}Aggregate,
        id: ${n.idField},
        command: Create${n.pascal}.parse({ type: 'Create${n.pascal}', ...request.body, ${n.idField} }),
        status: 201,
        body: accepted(${n.idField}),
        idempotencyKey,
      });
    },
  );

  app.post(
    '/${n.kebabPlural}/:id/rename',
    {
      schema: {
        tags,
        summary: 'Rename a ${n.words}',
        headers: CommandHeaders,
        params: ${n.pascal}Params,
        body: Rename${n.pascal}Body,
        response: { 200: ${n.pascal}CommandAccepted, ...errors },
      },
    },
    async (request, reply) =>
      run(request, reply, {
        aggregate: ${n.camel}Aggregate,
        id: request.params.id,
        command: Rename${n.pascal}.parse({
          type: 'Rename${n.pascal}',
          ${n.idField}: request.params.id,
          ...request.body,
        }),
        status: 200,
        body: accepted(request.params.id),
      }),
  );

  app.post(
    '/${n.kebabPlural}/:id/archive',
    {
      schema: {
        tags,
        summary: 'Archive a ${n.words} (for good)',
        headers: CommandHeaders,
        params: ${n.pascal}Params,
        // No body, or an empty JSON object.
        body: z.strictObject({}).nullish(),
        response: { 200: ${n.pascal}CommandAccepted, ...errors },
      },
    },
    async (request, reply) =>
      run(request, reply, {
        aggregate: ${n.camel}Aggregate,
        id: request.params.id,
        command: Archive${n.pascal}.parse({ type: 'Archive${n.pascal}', ${n.idField}: request.params.id }),
        status: 200,
        body: accepted(request.params.id),
      }),
  );
};
`;

/** commands/<plural>/<name>-routes.test.ts: the routes through registerCommandApi and inject. */
export const commandRoutesTest = (
  n: AggregateNames,
) => `import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { withLatency } from '../../infra/event-store/testing/with-latency.js';
import { createHttpApp, type HttpApp } from '../../infra/http/create-http-app.js';
import { createLogger } from '../../infra/logger.js';
import { registerCommandApi } from '../command-api.js';
import { ${n.camel}Commands } from './index.js';

let eventStore: EventStore;
let app: HttpApp;

beforeEach(async () => {
  // Latency on every store call lets concurrent requests really interleave between read and append.
  eventStore = withLatency(createMemoryEventStore(), 2);
  app = createHttpApp({ logger: createLogger({ level: 'silent' }), bodyLimit: 1024 });
  registerCommandApi(app, { eventStore, maxRetries: 10, routes: [${n.camel}Commands] });
  await app.ready();
});
afterEach(() => app.close());

const post = (url: string, payload?: object, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, ...(payload !== undefined && { payload }), headers });

const create = async (${n.idField}: string, name = 'First') => {
  const response = await post('/${n.kebabPlural}', { ${n.idField}, name });
  expect(response.statusCode).toBe(201);
};

const eventTypes = async (${n.idField}: string) =>
  (await eventStore.readStream(\`${n.category}-\${${n.idField}}\`)).map((event) => event.type);

const expectProblem = (response: Awaited<ReturnType<typeof post>>, status: number, type: string) => {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\\/problem\\+json/);
  expect(response.json()).toMatchObject({ status, type: \`urn:eventfold:problem:\${type}\` });
};

describe('${n.kebabPlural} command API', () => {
  it('creates, renames and archives a ${n.words}', async () => {
    const created = await post('/${n.kebabPlural}', { ${n.idField}: 'c-1', name: 'First' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({ ${n.idField}: 'c-1', revision: 0, position: expect.stringMatching(/^\\d+$/) });

    const renamed = await post('/${n.kebabPlural}/c-1/rename', { name: 'Second' });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ ${n.idField}: 'c-1', revision: 1 });
    expect(BigInt(renamed.json().position)).toBeGreaterThan(BigInt(created.json().position));

    expect((await post('/${n.kebabPlural}/c-1/archive')).json()).toMatchObject({ revision: 2 });
    expect(await eventTypes('c-1')).toEqual(['${n.pascal}Created', '${n.pascal}Renamed', '${n.pascal}Archived']);
  });

  it('generates an id when none is given, derived from the Idempotency-Key when there is one', async () => {
    const random = await post('/${n.kebabPlural}', { name: 'First' });
    expect(random.json().${n.idField}).toMatch(/^[0-9a-f-]{36}$/);
    const keyed = () => post('/${n.kebabPlural}', { name: 'First' }, { 'idempotency-key': 'create-1' });
    const first = await keyed();
    const again = await keyed();
    expect(again.json()).toEqual(first.json());
    expect(await eventTypes(first.json().${n.idField})).toEqual(['${n.pascal}Created']);
  });

  it('carries the correlation id into every event it appends', async () => {
    await post('/${n.kebabPlural}', { ${n.idField}: 'c-2', name: 'First' }, { 'x-correlation-id': 'trace-7' });
    const [event] = await eventStore.readStream('${n.category}-c-2');
    expect(event?.metadata).toMatchObject({ correlationId: 'trace-7', causationId: 'trace-7' });
  });

  it('a rename to the current name appends nothing and answers the current revision', async () => {
    await create('c-3');
    const response = await post('/${n.kebabPlural}/c-3/rename', { name: 'First' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ revision: 0 });
    expect(await eventTypes('c-3')).toEqual(['${n.pascal}Created']);
  });

  it.each([
    ['a ${n.words} that exists', 409, '${n.kebab}-already-exists', () => post('/${n.kebabPlural}', { ${n.idField}: 'r-1', name: 'X' })],
    ['an unknown ${n.words}', 404, '${n.kebab}-not-found', () => post('/${n.kebabPlural}/nobody/rename', { name: 'X' })],
    ['renaming an archived ${n.words}', 422, '${n.kebab}-archived', () => post('/${n.kebabPlural}/r-1/rename', { name: 'X' })],
    ['archiving twice', 422, '${n.kebab}-archived', () => post('/${n.kebabPlural}/r-1/archive')],
  ])('refuses %s with problem+json and appends nothing', async (_name, status, type, act) => {
    await create('r-1');
    await post('/${n.kebabPlural}/r-1/archive');
    const head = await eventStore.headPosition();
    expectProblem(await act(), status, type);
    expect(await eventStore.headPosition()).toBe(head);
  });

  it.each([
    ['a missing name', '/${n.kebabPlural}', {}],
    ['a blank name', '/${n.kebabPlural}', { name: '   ' }],
    ['an unknown field', '/${n.kebabPlural}', { name: 'X', admin: true }],
    ['a malformed id', '/${n.kebabPlural}', { name: 'X', ${n.idField}: 'a/b' }],
    ['a malformed id in the path', '/${n.kebabPlural}/a%20b/rename', { name: 'X' }],
    ['a body on archive', '/${n.kebabPlural}/b-1/archive', { name: 'X' }],
  ])('refuses %s with 400 and appends nothing', async (_name, url, body) => {
    await create('b-1');
    const head = await eventStore.headPosition();
    expectProblem(await post(url, body), 400, 'invalid-request');
    expect(await eventStore.headPosition()).toBe(head);
  });

  it('answers a repeated Idempotency-Key with the first response; refuses it for another request', async () => {
    await create('i-1');
    const rename = (name: string) => post('/${n.kebabPlural}/i-1/rename', { name }, { 'idempotency-key': 'k-1' });
    const first = await rename('Second');
    const head = await eventStore.headPosition();
    const again = await rename('Second');
    expect(again.json()).toEqual(first.json());
    expect(again.headers['idempotent-replayed']).toBe('true');
    expectProblem(await rename('Third'), 422, 'idempotency-key-reused');
    expect(await eventStore.headPosition()).toBe(head);
  });

  it('applies concurrent renames one after the other (optimistic concurrency, retried)', async () => {
    await create('o-1');
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => post('/${n.kebabPlural}/o-1/rename', { name: \`Name \${i}\` })),
    );
    expect(responses.map((response) => response.statusCode)).toEqual(Array(8).fill(200));
    const revisions = responses.map((response) => response.json().revision as number);
    expect([...revisions].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await eventTypes('o-1')).toHaveLength(9);
  });
});
`;

/** commands/<plural>/index.ts: the module's part of the write side. */
export const commandsIndex = (
  n: AggregateNames,
) => `/** The ${n.kebabPlural} module's part of the write side (composed into the module in app/modules/${n.kebabPlural}.ts). */
export { ${n.camel}CommandRoutes as ${n.camel}Commands } from './${n.kebab}-routes.js';
`;
