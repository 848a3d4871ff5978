import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { samples } from '../../domain/sticky-notes/testing/sticky-note-samples.js';
import type { EventStore } from '../../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { withLatency } from '../../infra/event-store/testing/with-latency.js';
import { createHttpApp, type HttpApp } from '../../infra/http/create-http-app.js';
import { createLogger } from '../../infra/logger.js';
import { registerCommandApi } from '../command-api.js';
import { stickyNoteCommandRoutes } from './sticky-note-routes.js';

let eventStore: EventStore;
let app: HttpApp;
// The routes' clock, fixed: a command's time is whatever it says.
let now = Date.parse('2026-03-01T12:00:00.000Z');

beforeEach(async () => {
  // Latency on every store call lets concurrent requests really interleave between read and append.
  eventStore = withLatency(createMemoryEventStore(), 2);
  app = createHttpApp({
    auth: { disabled: true },
    logger: createLogger({ level: 'silent' }),
    bodyLimit: 1024,
  });
  registerCommandApi(app, {
    eventStore,
    maxRetries: 10,
    routes: [stickyNoteCommandRoutes({ now: () => now })],
  });
  await app.ready();
});
afterEach(() => app.close());

const post = (url: string, payload?: object, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, ...(payload !== undefined && { payload }), headers });

const create = async (stickyNoteId: string) => {
  const response = await post('/sticky-notes', { stickyNoteId, ...samples.created });
  expect(response.statusCode).toBe(201);
};

const events = (stickyNoteId: string) => eventStore.readStream(`stickyNote-${stickyNoteId}`);
const eventTypes = async (stickyNoteId: string) => (await events(stickyNoteId)).map((event) => event.type);

const expectProblem = (response: Awaited<ReturnType<typeof post>>, status: number, type: string) => {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.json()).toMatchObject({ status, type: `urn:eventfold:problem:${type}` });
};

describe('sticky-notes command API', () => {
  it('creates, edits and archives a sticky note', async () => {
    const created = await post('/sticky-notes', { stickyNoteId: 'c-1', ...samples.created });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({
      stickyNoteId: 'c-1',
      revision: 0,
      position: expect.stringMatching(/^\d+$/),
    });

    const edited = await post('/sticky-notes/c-1/edit', samples.edit);
    expect(edited.statusCode).toBe(200);
    expect(edited.json()).toMatchObject({ stickyNoteId: 'c-1', revision: 1 });
    expect(BigInt(edited.json().position)).toBeGreaterThan(BigInt(created.json().position));

    expect((await post('/sticky-notes/c-1/archive')).json()).toMatchObject({ revision: 2 });
    expect(await eventTypes('c-1')).toEqual(['StickyNoteCreated', 'StickyNoteEdited', 'StickyNoteArchived']);
  });

  it('archives at the time of its clock; a retry later with the same Idempotency-Key is the same request', async () => {
    await create('t-1');
    const archive = () => post('/sticky-notes/t-1/archive', undefined, { 'idempotency-key': 'archive-t-1' });
    const first = await archive();
    now += 60_000;
    const again = await archive();
    expect(again.json()).toEqual(first.json());
    expect(again.headers['idempotent-replayed']).toBe('true');
    const [, archived] = await events('t-1');
    expect(archived?.data).toEqual({ stickyNoteId: 't-1', archivedAt: '2026-03-01T12:00:00.000Z' });
  });

  it('generates an id when none is given, derived from the Idempotency-Key when there is one', async () => {
    const random = await post('/sticky-notes', samples.created);
    expect(random.json().stickyNoteId).toMatch(/^[0-9a-f-]{36}$/);
    const keyed = () => post('/sticky-notes', samples.created, { 'idempotency-key': 'create-1' });
    const first = await keyed();
    const again = await keyed();
    expect(again.json()).toEqual(first.json());
    expect(await eventTypes(first.json().stickyNoteId)).toEqual(['StickyNoteCreated']);
  });

  it('carries the correlation id into every event it appends', async () => {
    await post(
      '/sticky-notes',
      { stickyNoteId: 'c-2', ...samples.created },
      { 'x-correlation-id': 'trace-7' },
    );
    const [event] = await events('c-2');
    expect(event?.metadata).toMatchObject({ correlationId: 'trace-7', causationId: 'trace-7' });
  });

  it('an edit that changes nothing appends nothing and answers the current revision', async () => {
    await create('c-3');
    const response = await post('/sticky-notes/c-3/edit', samples.created);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ revision: 0 });
    expect(await eventTypes('c-3')).toEqual(['StickyNoteCreated']);
  });

  it.each([
    [
      'a sticky note that exists',
      409,
      'sticky-note-already-exists',
      () => post('/sticky-notes', { stickyNoteId: 'r-1', ...samples.created }),
    ],
    [
      'an unknown sticky note',
      404,
      'sticky-note-not-found',
      () => post('/sticky-notes/nobody/edit', samples.edit),
    ],
    [
      'editing an archived sticky note',
      422,
      'sticky-note-archived',
      () => post('/sticky-notes/r-1/edit', samples.edit),
    ],
    ['archiving twice', 422, 'sticky-note-archived', () => post('/sticky-notes/r-1/archive')],
  ])('refuses %s with problem+json and appends nothing', async (_name, status, type, act) => {
    await create('r-1');
    await post('/sticky-notes/r-1/archive');
    const head = await eventStore.headPosition();
    expectProblem(await act(), status, type);
    expect(await eventStore.headPosition()).toBe(head);
  });

  it.each([
    ['no fields', '/sticky-notes', {}],
    ['an invalid field', '/sticky-notes', { ...samples.created, ...samples.invalid }],
    ['an unknown field', '/sticky-notes', { ...samples.created, admin: true }],
    ['a malformed id', '/sticky-notes', { ...samples.created, stickyNoteId: 'a/b' }],
    ['an invalid field in an edit', '/sticky-notes/b-1/edit', samples.invalid],
    ['an unknown field in an edit', '/sticky-notes/b-1/edit', { admin: true }],
    ['a malformed id in the path', '/sticky-notes/a%20b/edit', samples.edit],
    ['a body on archive', '/sticky-notes/b-1/archive', samples.edit],
    ['a time on archive', '/sticky-notes/b-1/archive', { at: '2020-01-01T00:00:00.000Z' }],
  ])('refuses %s with 400 and appends nothing', async (_name, url, body) => {
    await create('b-1');
    const head = await eventStore.headPosition();
    expectProblem(await post(url, body), 400, 'invalid-request');
    expect(await eventStore.headPosition()).toBe(head);
  });

  it('answers a repeated Idempotency-Key with the first response; refuses it for another request', async () => {
    await create('i-1');
    const edit = (fields: object) => post('/sticky-notes/i-1/edit', fields, { 'idempotency-key': 'k-1' });
    const first = await edit(samples.edit);
    const head = await eventStore.headPosition();
    const again = await edit(samples.edit);
    expect(again.json()).toEqual(first.json());
    expect(again.headers['idempotent-replayed']).toBe('true');
    expectProblem(await edit(samples.created), 422, 'idempotency-key-reused');
    expect(await eventStore.headPosition()).toBe(head);
  });

  it('decides each of concurrent edits on the state the others left (optimistic concurrency, retried)', async () => {
    await create('o-1');
    // Half set the edited values, half set them back: each edit that lands must see the one before.
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        post('/sticky-notes/o-1/edit', i % 2 ? samples.created : samples.edit),
      ),
    );
    expect(responses.map((response) => response.statusCode)).toEqual(Array(8).fill(200));
    const [, ...edits] = await events('o-1');
    // The fields an edit changed, set back to what they were.
    const created: Record<string, unknown> = samples.created;
    const back = Object.fromEntries(Object.keys(samples.edit).map((name) => [name, created[name]]));
    expect(edits.length).toBeGreaterThan(0);
    expect(edits.map((event) => event.data)).toEqual(
      edits.map((_, i) => ({ stickyNoteId: 'o-1', ...(i % 2 ? back : samples.edit) })),
    );
  });
  // scaffold:route-tests
});
