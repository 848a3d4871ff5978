import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EventStore, EventStoreUnavailableError } from '../../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { unreachable, withFaults } from '../../infra/event-store/testing/fault-injector.js';
import { createHttpApp, type HttpApp } from '../../infra/http/create-http-app.js';
import { registerCommandApi } from '../command-api.js';
import { createCommandHandler } from '../pipeline/handle-command.js';
import { TransferSettings, transferCommands } from './index.js';
import { bank, silent } from './testing/bank.js';
import { startTransferProcess, type TransferProcess } from './transfer-process.js';

/**
 * The event store away for a moment, seen from the transfer routes and the transfer process: 503
 * or 202, never 500, and a process that keeps going and moves each leg once.
 */
const settings = TransferSettings.parse({ TRANSFER_DEADLINE_MS: 60_000, TRANSFER_WAIT_MAX_SECONDS: 2 });
let store: EventStore;
let outage: ReturnType<typeof unreachable>;
let b: ReturnType<typeof bank>;
const apps: HttpApp[] = [];
const processes: TransferProcess[] = [];

beforeEach(async () => {
  store = createMemoryEventStore();
  outage = unreachable(store);
  b = bank(store);
  await b.open('a', 100);
  await b.open('b', 0);
});

afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop()));
  await Promise.all(apps.splice(0).map((app) => app.close()));
  b.outcomes.stop();
});

const serve = async (eventStore: EventStore = outage.store) => {
  const app = createHttpApp({ auth: { disabled: true }, logger: silent, bodyLimit: 1024 });
  registerCommandApi(app, {
    eventStore,
    maxRetries: 10,
    routes: [(scope, context) => transferCommands(scope, context, settings)],
  });
  await app.ready();
  apps.push(app);
  return app;
};

const runProcess = (eventStore: EventStore = store) => {
  const process = startTransferProcess({
    eventStore,
    handle: createCommandHandler({ eventStore, maxRetries: 20, backoffMs: 1 }),
    logger: silent,
    config: { retryBackoffMs: 2, retryMaxMs: 20, checkpointIntervalMs: 10 },
  });
  processes.push(process);
  return process;
};

const transfer = (app: HttpApp, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/transfers',
    payload: { fromAccountId: 'a', toAccountId: 'b', amount: 30, transferId: 't1' },
    headers,
  });

describe('transfers with the event store unreachable', () => {
  it('accepts a transfer whose read failed once (202)', async () => {
    const app = await serve();
    outage.failNext(1);
    const response = await transfer(app);
    expect(response.statusCode).toBe(202);
    expect(outage.faults).toBe(1);
    expect((await b.transfer('t1')).status).toBe('requested');
  });

  it('answers 503 problem+json with Retry-After while the store stays away, and starts nothing', async () => {
    const app = await serve();
    outage.down();
    const response = await transfer(app, { 'idempotency-key': 'tr-1', prefer: 'wait=1' });
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.headers['retry-after']).toMatch(/^\d+$/);
    expect(response.json()).toMatchObject({ type: 'urn:eventfold:problem:event-store-unavailable' });
    expect((await b.transfer('t1')).status).toBe('none');
  });

  it('with Prefer: wait, answers 202 and Location when the store goes away after accepting', async () => {
    // The transfer is appended; from then on, every call fails: the wait cannot read its outcome.
    const app = await serve({
      ...outage.store,
      append: async (...args) => {
        const result = await outage.store.append(...args);
        if (args[0].startsWith('transfer-')) outage.down();
        return result;
      },
    });
    const response = await transfer(app, { prefer: 'wait=1' });
    expect(response.statusCode).toBe(202);
    expect(response.headers.location).toBe('/transfers/t1');
    expect(response.json()).toMatchObject({ transferId: 't1', status: 'pending' });
  });

  it('the transfer process keeps going through failed reads and lost answers, and moves each leg once', async () => {
    // A third of the calls fail, in an order fixed by a seed; half the appends that land lose their answer.
    let seed = 7;
    const unlucky = (rate: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31 < rate;
    };
    let faults = 0;
    const count = (fault: boolean) => {
      if (fault) faults++;
      return fault;
    };
    const flaky = withFaults(store, {
      error: (message) => new EventStoreUnavailableError(message),
      append: () => (count(unlucky(1 / 3)) ? 'fail' : count(unlucky(1 / 2)) ? 'lose-ack' : undefined),
      readStream: () => count(unlucky(1 / 3)),
      headPosition: () => count(unlucky(1 / 3)),
    });
    runProcess(flaky);
    await b.request('t1', 'a', 'b', 30);
    expect(await b.settled('t1')).toMatchObject({ status: 'completed', compensated: false });
    expect(await b.balance('a')).toBe(70);
    expect(await b.balance('b')).toBe(30);
    expect(await b.legs('t1', ['a', 'b'])).toEqual([
      { accountId: 'a', type: 'MoneyWithdrawn', amount: 30, leg: 'withdraw' },
      { accountId: 'b', type: 'MoneyDeposited', amount: 30, leg: 'deposit' },
    ]);
    expect(faults).toBeGreaterThan(5);
  });

  it('the transfer process waits out a longer outage and then finishes the transfer', async () => {
    const process = runProcess(outage.store);
    await process.started;
    outage.down();
    await b.request('t1', 'a', 'b', 30);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await b.transfer('t1')).status).toBe('requested');
    outage.up();
    expect(await b.settled('t1')).toMatchObject({ status: 'completed' });
    expect(await b.balance('a')).toBe(70);
    expect(await b.balance('b')).toBe(30);
  });
});
