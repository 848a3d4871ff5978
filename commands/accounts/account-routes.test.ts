import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { withLatency } from '../../infra/event-store/testing/with-latency.js';
import { createHttpApp, type HttpApp } from '../../infra/http/create-http-app.js';
import { createLogger } from '../../infra/logger.js';
import { registerCommandApi } from '../command-api.js';
import { accountCommands } from './index.js';

let eventStore: EventStore;
let app: HttpApp;

const buildApp = async (store: EventStore, maxRetries = 10) => {
  const built = createHttpApp({
    auth: { disabled: true },
    logger: createLogger({ level: 'silent' }),
    bodyLimit: 1024,
  });
  registerCommandApi(built, { eventStore: store, maxRetries, routes: [accountCommands] });
  await built.ready();
  return built;
};

beforeEach(async () => {
  // Latency on every store call lets concurrent requests really interleave between read and append.
  eventStore = withLatency(createMemoryEventStore(), 2);
  app = await buildApp(eventStore);
});
afterEach(() => app.close());

const post = (url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, ...(payload !== undefined && { payload: payload as object }), headers });

const open = async (body: object = { owner: 'Ada', currency: 'EUR' }) => {
  const response = await post('/accounts', body);
  expect(response.statusCode).toBe(201);
  return response.json().accountId as string;
};

const expectProblem = (response: Awaited<ReturnType<typeof post>>, status: number, type: string) => {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = response.json();
  expect(problem).toMatchObject({ status, type: `urn:eventfold:problem:${type}` });
  expect(problem.title).toEqual(expect.any(String));
  return problem;
};

describe('command API', () => {
  it('opens, deposits, withdraws and closes an account', async () => {
    const opened = await post('/accounts', { owner: 'Ada', currency: 'EUR', accountId: 'ada-1' });
    expect(opened.statusCode).toBe(201);
    expect(opened.json()).toEqual({
      accountId: 'ada-1',
      revision: 0,
      position: expect.stringMatching(/^\d+$/),
    });

    const deposit = await post('/accounts/ada-1/deposits', { amount: 500, reference: 'salary' });
    expect(deposit.statusCode).toBe(200);
    expect(deposit.json()).toMatchObject({ accountId: 'ada-1', revision: 1 });
    expect(BigInt(deposit.json().position)).toBeGreaterThan(BigInt(opened.json().position));

    expect((await post('/accounts/ada-1/withdrawals', { amount: 500 })).json()).toMatchObject({
      revision: 2,
    });
    expect((await post('/accounts/ada-1/close')).json()).toMatchObject({ revision: 3 });

    const events = await eventStore.readStream('account-ada-1');
    expect(events.map((e) => e.type)).toEqual([
      'AccountOpened',
      'MoneyDeposited',
      'MoneyWithdrawn',
      'AccountClosed',
    ]);
    expect(events[1]?.data).toEqual({
      accountId: 'ada-1',
      amount: 500,
      balanceBefore: 0,
      balanceAfter: 500,
      reference: 'salary',
    });
    expect(events.map((e) => e.metadata.schemaVersion)).toEqual([1, 2, 1, 1]);
  });

  it('generates an account id when none is given', async () => {
    const id = await open();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('carries the correlation id from the request into the response and every event', async () => {
    const response = await post(
      '/accounts',
      { owner: 'Ada', currency: 'EUR', accountId: 'c1' },
      { 'x-correlation-id': 'trace-42' },
    );
    expect(response.headers['x-correlation-id']).toBe('trace-42');
    const [event] = await eventStore.readStream('account-c1');
    expect(event?.metadata).toMatchObject({
      correlationId: 'trace-42',
      causationId: 'trace-42',
      schemaVersion: 1,
    });
    expect(event?.metadata.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(event?.metadata.occurredAt ?? '')).not.toBeNaN();
  });

  it('generates a correlation id when the caller sends none or an unusable one', async () => {
    const none = await post('/accounts', { owner: 'Ada', currency: 'EUR' });
    expect(none.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    const bad = await post(
      '/accounts',
      { owner: 'Ada', currency: 'EUR' },
      { 'x-correlation-id': 'a b\u00e9' },
    );
    expect(bad.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  describe('business rules answer 4xx and append nothing', () => {
    it.each([
      [
        'an overdraft',
        'insufficient-funds',
        422,
        async (id: string) => post(`/accounts/${id}/withdrawals`, { amount: 101 }),
      ],
      [
        'another currency',
        'currency-mismatch',
        422,
        async (id: string) => post(`/accounts/${id}/deposits`, { amount: 1, currency: 'USD' }),
      ],
      [
        'closing with money in it',
        'balance-not-zero',
        422,
        async (id: string) => post(`/accounts/${id}/close`),
      ],
      [
        'an account that exists',
        'account-already-exists',
        409,
        async (id: string) => post('/accounts', { owner: 'B', currency: 'EUR', accountId: id }),
      ],
      [
        'an unknown account',
        'account-not-found',
        404,
        async () => post('/accounts/nobody/deposits', { amount: 1 }),
      ],
    ])('refuses %s', async (_name, type, status, act) => {
      const id = await open();
      await post(`/accounts/${id}/deposits`, { amount: 100 });
      const head = await eventStore.headPosition();
      expectProblem(await act(id), status, type);
      expect(await eventStore.headPosition()).toBe(head);
    });

    it('refuses anything on a closed account', async () => {
      const id = await open();
      await post(`/accounts/${id}/close`);
      const head = await eventStore.headPosition();
      expectProblem(await post(`/accounts/${id}/deposits`, { amount: 1 }), 422, 'account-closed');
      expectProblem(await post(`/accounts/${id}/withdrawals`, { amount: 1 }), 422, 'account-closed');
      expectProblem(await post(`/accounts/${id}/close`), 422, 'account-closed');
      expect(await eventStore.headPosition()).toBe(head);
    });
  });

  describe('bad input answers 4xx problem+json and appends nothing', () => {
    const raw = (url: string, payload: string, contentType = 'application/json') =>
      app.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType } });

    it.each([
      ['malformed JSON', () => raw('/accounts', '{"owner": "Ada",'), 400, 'malformed-json'],
      ['an empty JSON body', () => raw('/accounts', ''), 400, 'malformed-json'],
      ['an array body', () => raw('/accounts', '[]'), 400, 'invalid-request'],
      ['a string body', () => raw('/accounts', '"hello"'), 400, 'invalid-request'],
      ['a null body', () => raw('/accounts', 'null'), 400, 'invalid-request'],
      [
        'an unknown field',
        () => post('/accounts', { owner: 'Ada', currency: 'EUR', admin: true }),
        400,
        'invalid-request',
      ],
      ['a missing field', () => post('/accounts', { owner: 'Ada' }), 400, 'invalid-request'],
      [
        'a lower-case currency',
        () => post('/accounts', { owner: 'Ada', currency: 'eur' }),
        400,
        'invalid-request',
      ],
      [
        'a made-up currency',
        () => post('/accounts', { owner: 'Ada', currency: 'ZZZ' }),
        400,
        'invalid-request',
      ],
      ['a blank owner', () => post('/accounts', { owner: '   ', currency: 'EUR' }), 400, 'invalid-request'],
      [
        'a bad account id',
        () => post('/accounts', { owner: 'A', currency: 'EUR', accountId: 'a/b' }),
        400,
        'invalid-request',
      ],
      [
        'a prototype-poisoning body',
        () => raw('/accounts', '{"owner":"A","currency":"EUR","__proto__":{"x":1}}'),
        400,
        'malformed-json',
      ],
      ['a text/plain body', () => raw('/accounts', 'owner=Ada', 'text/plain'), 415, 'unsupported-media-type'],
      [
        'a form body',
        () => raw('/accounts', 'owner=Ada', 'application/x-www-form-urlencoded'),
        415,
        'unsupported-media-type',
      ],
      [
        'a body over the limit',
        () => post('/accounts', { owner: 'x'.repeat(2000), currency: 'EUR' }),
        413,
        'body-too-large',
      ],
      ['an unknown route', () => post('/nowhere', {}), 404, 'route-not-found'],
    ])('refuses %s', async (_name, act, status, type) => {
      expectProblem(await act(), status, type);
      expect(await eventStore.headPosition()).toBeUndefined();
    });

    it.each([
      ['a string amount', { amount: '10' }],
      ['a fractional amount', { amount: 10.5 }],
      ['a zero amount', { amount: 0 }],
      ['a negative amount', { amount: -5 }],
      ['an amount over the limit', { amount: 1e13 }],
      ['an unsafe integer', { amount: 2 ** 60 }],
      ['a missing amount', {}],
      ['an unknown field', { amount: 1, note: 'x' }],
      ['an object reference', { amount: 1, reference: { $gt: '' } }],
    ])('refuses a deposit with %s', async (_name, body) => {
      const id = await open();
      const head = await eventStore.headPosition();
      const problem = expectProblem(await post(`/accounts/${id}/deposits`, body), 400, 'invalid-request');
      expect(problem.errors?.length).toBeGreaterThan(0);
      expect(await eventStore.headPosition()).toBe(head);
    });

    it('refuses a malformed account id in the path', async () => {
      expectProblem(await post('/accounts/a%20b/deposits', { amount: 1 }), 400, 'invalid-request');
    });

    it('refuses a malformed Idempotency-Key', async () => {
      const response = await post(
        '/accounts',
        { owner: 'Ada', currency: 'EUR' },
        { 'idempotency-key': 'x'.repeat(300) },
      );
      expectProblem(response, 400, 'invalid-idempotency-key');
      expect(await eventStore.headPosition()).toBeUndefined();
    });
  });

  describe('idempotency', () => {
    it('answers a repeated key with the original response and appends nothing', async () => {
      const id = await open();
      const first = await post(`/accounts/${id}/deposits`, { amount: 10 }, { 'idempotency-key': 'k-1' });
      const head = await eventStore.headPosition();
      const again = await post(`/accounts/${id}/deposits`, { amount: 10 }, { 'idempotency-key': 'k-1' });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual(first.json());
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(await eventStore.headPosition()).toBe(head);
    });

    it('answers a damaged idempotency record with a 500 problem, neither replaying it nor deciding again', async () => {
      const id = await open();
      const { idempotencyStreamId } = await import('../pipeline/idempotency.js');
      const { callerScopedKey } = await import('../pipeline/http-command.js');
      await eventStore.append(
        // Where the record of the key k-damaged is kept, for this caller (authentication is off here).
        idempotencyStreamId(callerScopedKey('anonymous', 'k-damaged')),
        [
          {
            type: 'IdempotentResponseRecorded',
            data: { requestHash: 'whatever', response: 'not a response' },
            metadata: {
              eventId: 'e-damaged',
              correlationId: 'c',
              causationId: 'c',
              occurredAt: new Date(0).toISOString(),
              schemaVersion: 1,
            },
          },
        ],
        { expectedRevision: 'no_stream' },
      );
      const head = await eventStore.headPosition();
      const response = await post(
        `/accounts/${id}/deposits`,
        { amount: 10 },
        { 'idempotency-key': 'k-damaged' },
      );
      expectProblem(response, 500, 'internal');
      expect(await eventStore.headPosition()).toBe(head);
    });

    it('opens one account for a repeated open without an id', async () => {
      const first = await post(
        '/accounts',
        { owner: 'Ada', currency: 'EUR' },
        { 'idempotency-key': 'open-1' },
      );
      const again = await post(
        '/accounts',
        { owner: 'Ada', currency: 'EUR' },
        { 'idempotency-key': 'open-1' },
      );
      expect(first.statusCode).toBe(201);
      expect(again.statusCode).toBe(201);
      expect(again.json()).toEqual(first.json());
    });

    it('refuses the same key with a different body, on the same or another route', async () => {
      const id = await open();
      await post(`/accounts/${id}/deposits`, { amount: 10 }, { 'idempotency-key': 'k-2' });
      const head = await eventStore.headPosition();
      expectProblem(
        await post(`/accounts/${id}/deposits`, { amount: 11 }, { 'idempotency-key': 'k-2' }),
        422,
        'idempotency-key-reused',
      );
      expectProblem(
        await post(`/accounts/${id}/withdrawals`, { amount: 10 }, { 'idempotency-key': 'k-2' }),
        422,
        'idempotency-key-reused',
      );
      expect(await eventStore.headPosition()).toBe(head);
    });

    it('remembers keys across a restart (the record lives in the event store)', async () => {
      const id = await open();
      const first = await post(`/accounts/${id}/deposits`, { amount: 10 }, { 'idempotency-key': 'k-3' });
      await app.close();
      app = await buildApp(eventStore);
      const again = await post(`/accounts/${id}/deposits`, { amount: 10 }, { 'idempotency-key': 'k-3' });
      expect(again.json()).toEqual(first.json());
      expect((await eventStore.readStream(`account-${id}`)).length).toBe(2);
    });

    it('is exactly-once even when the process died before recording the response', async () => {
      const id = await open();
      // Simulate the crash window: the command's events are appended, the record is not.
      const handle = registerCommandApi(
        createHttpApp({
          auth: { disabled: true },
          logger: createLogger({ level: 'silent' }),
          bodyLimit: 1024,
        }),
        { eventStore, maxRetries: 3, routes: [accountCommands] },
      ).handle;
      const { accountAggregate } = await import('../../domain/accounts/account.js');
      const { requestHash } = await import('../pipeline/idempotency.js');
      const { callerScopedKey } = await import('../pipeline/http-command.js');
      const hash = requestHash('POST', '/accounts/:id/deposits', [
        id,
        { type: 'DepositMoney', accountId: id, amount: 7 },
      ]);
      const crashed = await handle(
        accountAggregate,
        id,
        { type: 'DepositMoney', accountId: id, amount: 7 },
        {
          correlationId: 'c',
          causationId: 'c',
          idempotency: { key: callerScopedKey('anonymous', 'k-4'), requestHash: hash },
        },
      );
      const retry = await post(`/accounts/${id}/deposits`, { amount: 7 }, { 'idempotency-key': 'k-4' });
      expect(retry.statusCode).toBe(200);
      expect(retry.json()).toEqual({
        accountId: id,
        revision: crashed.revision,
        position: crashed.position.toString(),
      });
      expect((await eventStore.readStream(`account-${id}`)).length).toBe(2);
    });

    it('records nothing for a rejected command, so a retry decides again', async () => {
      const id = await open();
      expectProblem(
        await post(`/accounts/${id}/withdrawals`, { amount: 5 }, { 'idempotency-key': 'k-5' }),
        422,
        'insufficient-funds',
      );
      await post(`/accounts/${id}/deposits`, { amount: 5 });
      const retry = await post(`/accounts/${id}/withdrawals`, { amount: 5 }, { 'idempotency-key': 'k-5' });
      expect(retry.statusCode).toBe(200);
    });
  });

  it('never overdraws under 50 concurrent withdrawals, and applies each accepted one once', async () => {
    const id = await open();
    await post(`/accounts/${id}/deposits`, { amount: 20 });
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        post(
          `/accounts/${id}/withdrawals`,
          { amount: 1, reference: `w${i}` },
          { 'idempotency-key': `w-${i}` },
        ),
      ),
    );
    const accepted = responses.filter((r) => r.statusCode === 200);
    const refused = responses.filter((r) => r.statusCode !== 200);
    expect(accepted).toHaveLength(20);
    for (const r of refused) expect([409, 422]).toContain(r.statusCode);

    const withdrawals = (await eventStore.readStream(`account-${id}`)).filter(
      (e) => e.type === 'MoneyWithdrawn',
    );
    expect(withdrawals).toHaveLength(20);
    const references = withdrawals.map((e) => (e.data as { reference: string }).reference);
    expect(new Set(references).size).toBe(20);
    expect(references.sort()).toEqual(accepted.map((r) => `w${responses.indexOf(r)}`).sort());
    expect(withdrawals.at(-1)?.data).toMatchObject({ balanceAfter: 0 });
  });

  it('answers 409 when concurrency retries run out', async () => {
    // Ten write processes on one store, no retries: within one process the pipeline runs the
    // commands to a stream one at a time, so the conflicts come from the other processes.
    const writers = await Promise.all(Array.from({ length: 10 }, () => buildApp(eventStore, 0)));
    const id = await open();
    await post(`/accounts/${id}/deposits`, { amount: 100 });
    const responses = await Promise.all(
      writers.map((writer) =>
        writer.inject({ method: 'POST', url: `/accounts/${id}/withdrawals`, payload: { amount: 1 } }),
      ),
    );
    const conflicts = responses.filter((r) => r.statusCode === 409);
    expect(conflicts.length).toBeGreaterThan(0);
    expect(conflicts[0]?.headers['content-type']).toMatch(/problem\+json/);
    expect(conflicts[0]?.json().type).toBe('urn:eventfold:problem:concurrency-conflict');
    const applied = (await eventStore.readStream(`account-${id}`)).filter((e) => e.type === 'MoneyWithdrawn');
    expect(applied.length).toBe(responses.filter((r) => r.statusCode === 200).length);
    await Promise.all(writers.map((writer) => writer.close()));
  });
});
