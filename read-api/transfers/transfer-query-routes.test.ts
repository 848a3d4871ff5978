import { afterEach, describe, expect, it } from 'vitest';
import { type InProcessApp, startInProcessApp } from '../../app/testing/in-process-app.js';
import { startTransferProcess, type TransferProcess } from '../../commands/transfers/transfer-process.js';
import type { HttpApp } from '../../infra/http/create-http-app.js';
import { TRANSFERS, TRANSFERS_PROJECTION } from '../../projections/transfers/transfers-projection.js';
import { type Harness, startReadApi } from '../testing/read-api-harness.js';
import { transferQueries } from './index.js';

type Response = { statusCode: number; headers: Record<string, unknown>; json(): unknown };

const expectProblem = (response: Response, status: number, type: string) => {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.json()).toMatchObject({ status, type: `urn:eventfold:problem:${type}` });
};

describe('GET /transfers/:id', () => {
  let harness: Harness;
  afterEach(() => harness?.close());

  const doc = {
    _id: 't1',
    transferId: 't1',
    fromAccountId: 'a',
    toAccountId: 'b',
    amount: 250,
    requestedBy: 'ada',
    status: 'failed',
    reason: 'insufficient_funds',
    revision: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:01.000Z',
  };

  it('answers the transfer view, without storage keys, with an ETag', async () => {
    harness = await startReadApi({ queries: [transferQueries] });
    await harness.readStore.collection(TRANSFERS).bulkWrite([{ insertOne: { document: doc } }]);
    const response = await harness.app.inject({ url: '/transfers/t1' });
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toMatch(/^"[^"]+"$/);
    const { _id, revision, ...view } = doc;
    expect(response.json()).toEqual(view);
  });

  it('answers 404 problem+json for a transfer it does not know', async () => {
    harness = await startReadApi({ queries: [transferQueries] });
    expectProblem(await harness.app.inject({ url: '/transfers/nope' }), 404, 'transfer-not-found');
  });

  it.each([
    ['a malformed id', '/transfers/a%20b', {}],
    ['a query parameter', '/transfers/t1?x=1', {}],
    ['a malformed x-min-position', '/transfers/t1', { 'x-min-position': '-1' }],
    ['two x-min-positions', '/transfers/t1', { 'x-min-position': ['5', '6'] }],
  ])('answers 400 for %s, and reads nothing', async (_name, url, headers) => {
    harness = await startReadApi({ queries: [transferQueries] });
    expectProblem(await harness.app.inject({ url, headers }), 400, 'invalid-request');
    expect(harness.calls).toEqual([]);
  });

  it('answers 404 for a transfer document without its request (a document that does not match its view)', async () => {
    harness = await startReadApi({ queries: [transferQueries] });
    await harness.readStore.collection(TRANSFERS).bulkWrite([
      {
        insertOne: {
          document: { _id: 't1', status: 'completed', revision: 2, updatedAt: '2026-01-01T00:00:00.000Z' },
        },
      },
    ]);
    const response = await harness.app.inject({ url: '/transfers/t1' });
    expectProblem(response, 404, 'transfer-not-found');
    expect(harness.readApi.stats().invalidDocuments).toBe(1);
  });

  it('answers 503 with Retry-After when the read model does not reach x-min-position in time', async () => {
    harness = await startReadApi({ queries: [transferQueries], consistencyTimeoutMs: 50 });
    await harness.setCheckpoint(TRANSFERS_PROJECTION, 10n);
    const response = await harness.app.inject({ url: '/transfers/t1', headers: { 'x-min-position': '11' } });
    expectProblem(response, 503, 'consistency-timeout');
    expect(response.headers['retry-after']).toBe('1');
  });
});

describe('transfers end to end: POST, the transfer process, the projection, GET with x-min-position', () => {
  let app: HttpApp;
  let running: InProcessApp | undefined;
  let transferProcess: TransferProcess | undefined;
  afterEach(async () => {
    await transferProcess?.stop();
    await running?.stop();
    running = undefined;
  });

  const start = async () => {
    running = await startInProcessApp();
    app = running.app;
    const { eventStore, handle, logger } = running;
    const post = async (url: string, payload: object, headers: Record<string, string> = {}) =>
      (await app.inject({ method: 'POST', url, payload, headers })).json();
    await post('/accounts', { owner: 'Ada', currency: 'EUR', accountId: 'a' });
    await post('/accounts', { owner: 'Bo', currency: 'EUR', accountId: 'b' });
    await post('/accounts/a/deposits', { amount: 100 });
    return {
      post,
      runProcess: () => {
        transferProcess = startTransferProcess({ eventStore, handle, logger });
      },
    };
  };

  const read = (id: string, position: string) =>
    app.inject({ url: `/transfers/${id}`, headers: { 'x-min-position': position } });

  it('reads a pending transfer right after POST, and its outcome right after a waited POST', async () => {
    const { post, runProcess } = await start();
    const body = { fromAccountId: 'a', toAccountId: 'b', amount: 40, transferId: 't1' };
    const accepted = await post('/transfers', body, { 'idempotency-key': 'k1' });
    const pending = await read('t1', accepted.position);
    expect(pending.statusCode).toBe(200);
    expect(pending.json()).toEqual({
      transferId: 't1',
      fromAccountId: 'a',
      toAccountId: 'b',
      amount: 40,
      requestedBy: 'anonymous',
      status: 'pending',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });

    runProcess();
    // The retry of the same request waits for the outcome of the first.
    const completed = await post('/transfers', body, { 'idempotency-key': 'k1', prefer: 'wait=5' });
    expect(completed).toMatchObject({ transferId: 't1', status: 'completed' });
    const { position: _, ...view } = completed;
    expect((await read('t1', completed.position)).json()).toEqual(view);
    const account = await app.inject({
      url: '/accounts/b',
      headers: { 'x-min-position': completed.position },
    });
    expect(account.json()).toMatchObject({ balance: 40 });

    const failed = await post(
      '/transfers',
      { fromAccountId: 'a', toAccountId: 'b', amount: 70, transferId: 't2' },
      { prefer: 'wait=5' },
    );
    expect(failed).toMatchObject({ status: 'failed', reason: 'insufficient_funds' });
    expect((await read('t2', failed.position)).json()).toMatchObject({
      status: 'failed',
      reason: 'insufficient_funds',
    });
  });
});
