import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { createHttpApp, type HttpApp } from '../../infra/http/create-http-app.js';
import { createHttpCommandRunner } from '../pipeline/http-command.js';
import { createIdempotencyStore } from '../pipeline/idempotency.js';
import { bank, silent } from './testing/bank.js';
import { createTransferOutcomes, type TransferOutcomes } from './transfer-outcomes.js';
import { startTransferProcess, type TransferProcess } from './transfer-process.js';
import { transferCommandRoutes } from './transfer-routes.js';

let store: EventStore;
let b: ReturnType<typeof bank>;
let outcomes: TransferOutcomes;
let app: HttpApp;
let process: TransferProcess | undefined;

const MAX_WAITERS = 2;

beforeEach(async () => {
  store = createMemoryEventStore();
  b = bank(store);
  await b.open('a', 100);
  await b.open('b', 0);
  outcomes = createTransferOutcomes({ eventStore: store, logger: silent, retryMs: 10 });
  // Who may transfer is not this test's subject: authentication off, every request an admin.
  app = createHttpApp({ auth: { disabled: true }, logger: silent, bodyLimit: 1024 });
  transferCommandRoutes(app, {
    run: createHttpCommandRunner({ handle: b.handle, idempotency: createIdempotencyStore(store) }),
    outcomes,
    eventStore: store,
    config: { deadlineMs: 60_000, waitMaxSeconds: 10, waitMaxWaiters: MAX_WAITERS },
  });
  await app.ready();
});

afterEach(async () => {
  await process?.stop();
  process = undefined;
  outcomes.stop();
  b.outcomes.stop();
  await app.close();
});

const post = (amount: number, prefer = 'wait=10') =>
  app.inject({
    method: 'POST',
    url: '/transfers',
    payload: { fromAccountId: 'a', toAccountId: 'b', amount },
    headers: { prefer },
  });

describe('POST /transfers: a bound on requests waiting for an outcome', () => {
  it('beyond it answers 202 at once, not waited for but accepted; the requests already waiting get their outcome', async () => {
    // No transfer process runs yet, so the first requests wait.
    const waiting = [post(1), post(2)];
    await expect.poll(() => outcomes.waiting, { timeout: 5_000 }).toBe(MAX_WAITERS);

    const beyond = await post(3);
    expect(beyond.statusCode).toBe(202);
    // RFC 7240: the preference was not applied, and the answer says so by leaving it out.
    expect(beyond.headers['preference-applied']).toBeUndefined();
    const { transferId } = beyond.json();
    expect(beyond.json()).toMatchObject({ status: 'pending' });
    expect(beyond.headers.location).toBe(`/transfers/${transferId}`);
    // Its command ran: the transfer is requested, and goes ahead like any other.
    expect((await b.transferEvents(transferId)).map((event) => event.type)).toEqual(['TransferRequested']);
    expect(outcomes.waiting).toBe(MAX_WAITERS);

    process = startTransferProcess({
      eventStore: store,
      handle: b.handle,
      logger: silent,
      config: { retryBackoffMs: 2, retryMaxMs: 20 },
    });
    for (const response of await Promise.all(waiting)) {
      expect(response.statusCode).toBe(200);
      expect(response.headers['preference-applied']).toBe('wait=10');
      expect(response.json()).toMatchObject({ status: 'completed' });
    }
    await expect.poll(() => b.balance('b'), { timeout: 5_000 }).toBe(6);

    // Their slots are free again.
    const after = await post(4);
    expect(after.statusCode).toBe(200);
    expect(after.headers['preference-applied']).toBe('wait=10');
  });

  it('frees a slot when its wait times out', async () => {
    const timedOut = await Promise.all([post(1, 'wait=1'), post(2, 'wait=1')]);
    for (const response of timedOut) {
      expect(response.statusCode).toBe(202);
      expect(response.headers['preference-applied']).toBe('wait=1');
    }
    expect(outcomes.waiting).toBe(0);
    const again = post(3, 'wait=1');
    await expect.poll(() => outcomes.waiting, { timeout: 5_000 }).toBe(1);
    expect((await again).headers['preference-applied']).toBe('wait=1');
  });

  it('takes no slot for a request that prefers no wait', async () => {
    const waiting = [post(1), post(2)];
    await expect.poll(() => outcomes.waiting, { timeout: 5_000 }).toBe(MAX_WAITERS);
    for (const prefer of ['respond-async', 'wait=0', 'wait=soon']) {
      const response = await post(1, prefer);
      expect(response.statusCode).toBe(202);
      expect(response.headers['preference-applied']).toBeUndefined();
    }
    outcomes.stop();
    for (const response of await Promise.all(waiting)) expect(response.statusCode).toBe(202);
  });
});
