import { afterEach, beforeEach, expect, it } from 'vitest';
import type { EventStore } from '../../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { createHttpApp, type HttpApp } from '../../infra/http/create-http-app.js';
import { createLogger } from '../../infra/logger.js';
import { registerCommandApi } from '../command-api.js';
import { fixtureCounterCommands } from '../testing/fixture-commands.js';
import { IDEMPOTENCY_STREAM_PREFIX } from './idempotency.js';

/**
 * An Idempotency-Key over HTTP, with a short retention: replayed within it, forgotten after it
 * (both the record and the key its events carry), and its record deleted by the write API's sweep.
 */
const RETENTION_MS = 400;

let eventStore: EventStore;
let app: HttpApp;
let sweep: () => Promise<number>;

beforeEach(async () => {
  eventStore = createMemoryEventStore();
  app = createHttpApp({
    auth: { disabled: true },
    logger: createLogger({ level: 'silent' }),
    bodyLimit: 1024,
  });
  ({
    idempotencySweep: { sweep },
  } = registerCommandApi(app, {
    eventStore,
    maxRetries: 10,
    idempotencyRetentionMs: RETENTION_MS,
    routes: [fixtureCounterCommands],
  }));
  await app.ready();
  expect((await post('/counters', { counterId: 'ada', owner: 'Ada' })).statusCode).toBe(201);
});
afterEach(() => app.close());

const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, payload, headers });
const increment = (amount: number) =>
  post('/counters/ada/increments', { amount }, { 'idempotency-key': 'pay-1' });
const increments = async () =>
  (await eventStore.readStream('counter-ada')).filter((event) => event.type === 'Incremented').length;
const records = async () =>
  new Set(
    (await eventStore.readAll({ filter: { streamPrefixes: [IDEMPOTENCY_STREAM_PREFIX] } })).map(
      (e) => e.streamId,
    ),
  ).size;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('replays a key within its retention; after it, the request is new, runs, and is recorded', async () => {
  const first = await increment(5);
  expect(first.statusCode).toBe(200);
  const repeat = await increment(5);
  expect(repeat.headers['idempotent-replayed']).toBe('true');
  expect(repeat.json()).toEqual(first.json());
  // Another body under the key, within the retention: refused.
  expect((await increment(6)).statusCode).toBe(422);
  expect(await increments()).toBe(1);

  await sleep(RETENTION_MS + 100);
  const again = await increment(6);
  expect(again.statusCode).toBe(200);
  expect(again.headers['idempotent-replayed']).toBeUndefined();
  expect(await increments()).toBe(2);
  // Recorded: repeated at once, it is replayed.
  const replayed = await increment(6);
  expect(replayed.headers['idempotent-replayed']).toBe('true');
  expect(replayed.json()).toEqual(again.json());
  expect(await increments()).toBe(2);
});

it("the write API's sweep deletes expired records, on its own, and nothing else", async () => {
  for (const key of ['a', 'b', 'c'])
    await post('/counters/ada/increments', { amount: 1 }, { 'idempotency-key': key });
  expect(await records()).toBe(3);
  const domain = await eventStore.readStream('counter-ada');
  await sleep(RETENTION_MS);
  await post('/counters', { counterId: 'bob', owner: 'Bob' }, { 'idempotency-key': 'd' });
  // Every 250 ms here (a 24th of the retention, at least that): no call needed.
  const deadline = Date.now() + 5_000;
  while ((await records()) > 1 && Date.now() < deadline) await sleep(50);
  expect(await records()).toBe(1);
  expect(await eventStore.readStream('counter-ada')).toEqual(domain);
  expect(await eventStore.readStream('counter-bob')).toHaveLength(1);
  expect(await sweep()).toBe(0);
});
