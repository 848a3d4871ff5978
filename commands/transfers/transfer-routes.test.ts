import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { createHttpApp, type HttpApp } from '../../infra/http/create-http-app.js';
import { registerCommandApi } from '../command-api.js';
import { createHttpCommandRunner } from '../pipeline/http-command.js';
import { createIdempotencyStore } from '../pipeline/idempotency.js';
import { TransferSettings, transferCommands } from './index.js';
import { bank, silent } from './testing/bank.js';
import { createTransferOutcomes } from './transfer-outcomes.js';
import { startTransferProcess, type TransferProcess } from './transfer-process.js';
import { transferCommandRoutes } from './transfer-routes.js';

let store: EventStore;
let app: HttpApp;
let b: ReturnType<typeof bank>;
let process: TransferProcess | undefined;

const WAIT_MAX_SECONDS = 2;
const settings = TransferSettings.parse({
  TRANSFER_DEADLINE_MS: 60_000,
  TRANSFER_WAIT_MAX_SECONDS: WAIT_MAX_SECONDS,
});

beforeEach(async () => {
  store = createMemoryEventStore();
  b = bank(store);
  await b.open('a', 100);
  await b.open('b', 0);
  app = createHttpApp({ auth: { disabled: true }, logger: silent, bodyLimit: 1024 });
  registerCommandApi(app, {
    eventStore: store,
    maxRetries: 10,
    routes: [(scope, context) => transferCommands(scope, context, settings)],
  });
  await app.ready();
});

afterEach(async () => {
  await process?.stop();
  process = undefined;
  await app.close();
  b.outcomes.stop();
});

const runProcess = () => {
  process = startTransferProcess({
    eventStore: store,
    handle: b.handle,
    logger: silent,
    config: { retryBackoffMs: 2, retryMaxMs: 20 },
  });
};

const post = (payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/transfers', payload: payload as object, headers });

const expectProblem = (response: Awaited<ReturnType<typeof post>>, status: number, type: string) => {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.json()).toMatchObject({ status, type: `urn:eventfold:problem:${type}` });
};

describe('POST /transfers', () => {
  it('accepts a transfer with 202, its id, its position and where to poll it', async () => {
    const response = await post({ fromAccountId: 'a', toAccountId: 'b', amount: 30 });
    expect(response.statusCode).toBe(202);
    const body = response.json();
    expect(body).toEqual({
      transferId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'pending',
      position: expect.stringMatching(/^\d+$/),
    });
    expect(response.headers.location).toBe(`/transfers/${body.transferId}`);
    expect(response.headers['preference-applied']).toBeUndefined();
    const [requested] = await b.transferEvents(body.transferId);
    expect(requested).toMatchObject({ type: 'TransferRequested' });
    if (!requested) return;
    expect(requested.position.toString()).toBe(body.position);
    // The deadline is TRANSFER_DEADLINE_MS after the request.
    const deadline = Date.parse((requested.data as { deadline: string }).deadline);
    expect(deadline - Date.parse(requested.metadata.occurredAt)).toBeGreaterThanOrEqual(59_000);
  });

  it('takes the transfer id the client chose, and refuses it a second time', async () => {
    const first = await post({ fromAccountId: 'a', toAccountId: 'b', amount: 1, transferId: 'mine-1' });
    expect(first.json().transferId).toBe('mine-1');
    const head = await store.headPosition();
    expectProblem(
      await post({ fromAccountId: 'a', toAccountId: 'b', amount: 1, transferId: 'mine-1' }),
      409,
      'transfer-already-exists',
    );
    expect(await store.headPosition()).toBe(head);
  });

  it('starts one transfer for a repeated Idempotency-Key, and refuses the key for another transfer', async () => {
    const headers = { 'idempotency-key': 'tk-1' };
    const first = await post({ fromAccountId: 'a', toAccountId: 'b', amount: 5 }, headers);
    const again = await post({ fromAccountId: 'a', toAccountId: 'b', amount: 5 }, headers);
    expect(first.statusCode).toBe(202);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual(first.json());
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(first.json().transferId).toMatch(/^tr-[0-9a-f]{32}$/);
    expect(await b.transferEvents(first.json().transferId)).toHaveLength(1);
    expectProblem(
      await post({ fromAccountId: 'a', toAccountId: 'b', amount: 6 }, headers),
      422,
      'idempotency-key-reused',
    );
  });

  it('refuses a transfer to the same account', async () => {
    expectProblem(await post({ fromAccountId: 'a', toAccountId: 'a', amount: 5 }), 422, 'same-account');
  });

  it.each([
    ['an unknown field', { fromAccountId: 'a', toAccountId: 'b', amount: 5, note: 'x' }],
    ['a missing target', { fromAccountId: 'a', amount: 5 }],
    ['a zero amount', { fromAccountId: 'a', toAccountId: 'b', amount: 0 }],
    ['a string amount', { fromAccountId: 'a', toAccountId: 'b', amount: '5' }],
    ['a fractional amount', { fromAccountId: 'a', toAccountId: 'b', amount: 0.5 }],
    ['a bad account id', { fromAccountId: 'a b', toAccountId: 'b', amount: 5 }],
    ['a bad transfer id', { fromAccountId: 'a', toAccountId: 'b', amount: 5, transferId: 'x/y' }],
    ['an array', []],
  ])('refuses %s with 400 and appends nothing', async (_name, body) => {
    const head = await store.headPosition();
    expectProblem(await post(body), 400, 'invalid-request');
    expect(await store.headPosition()).toBe(head);
  });

  describe('Prefer: wait', () => {
    it('answers 200 with the outcome and the position that settled it', async () => {
      runProcess();
      const response = await post(
        { fromAccountId: 'a', toAccountId: 'b', amount: 30 },
        { prefer: 'wait=2', 'x-correlation-id': 'req-77' },
      );
      expect(response.statusCode).toBe(200);
      expect(response.headers['preference-applied']).toBe('wait=2');
      const body = response.json();
      expect(body).toEqual({
        transferId: expect.any(String),
        fromAccountId: 'a',
        toAccountId: 'b',
        amount: 30,
        requestedBy: 'anonymous',
        status: 'completed',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        position: expect.stringMatching(/^\d+$/),
      });
      const events = await b.transferEvents(body.transferId);
      expect(events.at(-1)?.type).toBe('TransferCompleted');
      expect(events.at(-1)?.position.toString()).toBe(body.position);
      expect(body.updatedAt).toBe(events.at(-1)?.metadata.occurredAt);

      // One correlation id, the request's, on every event the transfer caused.
      const legs = [...(await b.accountEvents('a')), ...(await b.accountEvents('b'))].filter(
        (e) => (e.data as { reference?: string }).reference === body.transferId,
      );
      expect(legs).toHaveLength(2);
      for (const event of [...events, ...legs]) expect(event.metadata.correlationId).toBe('req-77');
    });

    it('answers 200 with the reason when the transfer fails', async () => {
      runProcess();
      const response = await post(
        { fromAccountId: 'a', toAccountId: 'b', amount: 500 },
        { prefer: 'wait=2' },
      );
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ status: 'failed', reason: 'insufficient_funds' });
    });

    it('caps the wait and says so in Preference-Applied', async () => {
      runProcess();
      const response = await post(
        { fromAccountId: 'a', toAccountId: 'b', amount: 1 },
        { prefer: 'wait=3600' },
      );
      expect(response.statusCode).toBe(200);
      expect(response.headers['preference-applied']).toBe(`wait=${WAIT_MAX_SECONDS}`);
    });

    it('answers 202 with Location when the transfer is still pending after the wait', async () => {
      // No transfer process runs, so nothing settles it.
      const response = await post({ fromAccountId: 'a', toAccountId: 'b', amount: 1 }, { prefer: 'wait=1' });
      expect(response.statusCode).toBe(202);
      expect(response.json()).toMatchObject({ status: 'pending' });
      expect(response.headers.location).toBe(`/transfers/${response.json().transferId}`);
      expect(response.headers['preference-applied']).toBe('wait=1');
    });

    it('ignores a malformed Prefer and answers at once', async () => {
      const response = await post(
        { fromAccountId: 'a', toAccountId: 'b', amount: 1 },
        { prefer: 'wait=soon' },
      );
      expect(response.statusCode).toBe(202);
      expect(response.headers['preference-applied']).toBeUndefined();
    });

    it('answers a repeated request with the outcome of the first one', async () => {
      runProcess();
      const headers = { 'idempotency-key': 'tk-9' };
      const first = await post({ fromAccountId: 'a', toAccountId: 'b', amount: 10 }, headers);
      expect(first.statusCode).toBe(202);
      const again = await post(
        { fromAccountId: 'a', toAccountId: 'b', amount: 10 },
        { ...headers, prefer: 'wait=2' },
      );
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ transferId: first.json().transferId, status: 'completed' });
      expect(await b.balance('b')).toBe(10);
    });
  });
});

describe('POST /transfers with Prefer: wait, over a real connection', () => {
  it('stops waiting when the client hangs up', async () => {
    const outcomes = createTransferOutcomes({ eventStore: store, logger: silent });
    const server = createHttpApp({ auth: { disabled: true }, logger: silent, bodyLimit: 1024 });
    const run = createHttpCommandRunner({ handle: b.handle, idempotency: createIdempotencyStore(store) });
    transferCommandRoutes(server, {
      run,
      outcomes,
      eventStore: store,
      config: { deadlineMs: 60_000, waitMaxSeconds: 30 },
    });
    await server.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = server.server.address() as AddressInfo;
      const request = httpRequest({
        port,
        host: '127.0.0.1',
        method: 'POST',
        path: '/transfers',
        headers: { 'content-type': 'application/json', prefer: 'wait=30' },
      });
      request.on('error', () => {});
      request.end(JSON.stringify({ fromAccountId: 'a', toAccountId: 'b', amount: 1 }));
      await expect.poll(() => outcomes.waiting, { timeout: 5_000 }).toBe(1);
      request.destroy();
      await expect.poll(() => outcomes.waiting, { timeout: 5_000 }).toBe(0);
    } finally {
      outcomes.stop();
      await server.close();
    }
  });
});
