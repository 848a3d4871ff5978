import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stateFrom } from '../../domain/shared/decider.js';
import { counterAggregate } from '../../domain/shared/testing/counter.js';
import type { EventStore } from '../../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { unreachable } from '../../infra/event-store/testing/fault-injector.js';
import { createHttpApp, type HttpApp } from '../../infra/http/create-http-app.js';
import { createLogger } from '../../infra/logger.js';
import { registerCommandApi } from '../command-api.js';
import { fixtureCounterCommands } from '../testing/fixture-commands.js';

/**
 * The event store away for a moment (EventStoreDB restarting, its client reconnecting): the write
 * API tries again a few times, then answers 503 with Retry-After, never 500; and an append whose
 * answer was lost is found again, never applied twice. On the fixture counter's routes.
 */
let inner: EventStore;
let outage: ReturnType<typeof unreachable>;
let app: HttpApp;
const apps: HttpApp[] = [];

/** The write API over `eventStore`: by default the unreachable store, in some tests a wrapper of it. */
const serve = async (eventStore: EventStore = outage.store) => {
  const served = createHttpApp({
    auth: { disabled: true },
    logger: createLogger({ level: 'silent' }),
    bodyLimit: 1024,
  });
  registerCommandApi(served, { eventStore, maxRetries: 10, routes: [fixtureCounterCommands] });
  await served.ready();
  apps.push(served);
  return served;
};

/** The unreachable store, with `before` run ahead of each append: to start an outage at a given append. */
const onAppend = (before: (appendNumber: number) => void): EventStore => {
  let appends = 0;
  const { store } = outage;
  return {
    ...store,
    append: (...args) => {
      before(++appends);
      return store.append(...args);
    },
  };
};

beforeEach(async () => {
  inner = createMemoryEventStore();
  outage = unreachable(inner);
  app = await serve();
  expect((await post('/counters', { counterId: 'ada', owner: 'Ada' })).statusCode).toBe(201);
});
afterEach(() => Promise.all(apps.splice(0).map((a) => a.close())));

const post = (url: string, payload: object, headers: Record<string, string> = {}, to = app) =>
  to.inject({ method: 'POST', url, payload, headers });

const increment = (amount: number, headers: Record<string, string> = {}, to = app) =>
  post('/counters/ada/increments', { amount }, headers, to);

const total = async () => {
  const state = stateFrom(counterAggregate, await inner.readStream('counter-ada'));
  return state.status === 'none' ? undefined : state.total;
};

const increments = async () =>
  (await inner.readStream('counter-ada')).filter((event) => event.type === 'Incremented').length;

const expectUnavailable = (response: Awaited<ReturnType<typeof post>>) => {
  expect(response.statusCode).toBe(503);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.headers['retry-after']).toMatch(/^\d+$/);
  expect(response.json()).toMatchObject({
    type: 'urn:eventfold:problem:event-store-unavailable',
    status: 503,
    title: expect.any(String),
    correlationId: expect.any(String),
  });
};

describe('write API with the event store unreachable', () => {
  it('retries a read that failed once, and the command succeeds', async () => {
    outage.failNext(1);
    const response = await increment(500);
    expect(response.statusCode).toBe(200);
    expect(outage.faults).toBe(1);
    expect(await total()).toBe(500);
  });

  it('retries an opening whose read failed twice (201)', async () => {
    outage.failNext(2);
    const response = await post('/counters', { counterId: 'bob', owner: 'Bob' });
    expect(response.statusCode).toBe(201);
    expect(outage.faults).toBe(2);
  });

  it('retries an append that failed before it reached the store', async () => {
    // The increment's read goes through; its append is refused, and so is the read after it.
    const local = await serve(onAppend((n) => n === 1 && outage.failNext(2)));
    const response = await increment(700, {}, local);
    expect(response.statusCode).toBe(200);
    expect(outage.faults).toBe(2);
    expect(await increments()).toBe(1);
    expect(await total()).toBe(700);
  });

  it('answers 503 problem+json with Retry-After when the store stays away, and appends nothing', async () => {
    const head = await inner.headPosition();
    outage.down();
    const started = performance.now();
    const response = await increment(500, { 'idempotency-key': 'pay-1' });
    const elapsed = performance.now() - started;
    expectUnavailable(response);
    // Bounded: a few tries within about a second, not a hang.
    expect(outage.faults).toBeGreaterThan(1);
    expect(outage.faults).toBeLessThanOrEqual(6);
    expect(elapsed).toBeLessThan(2_000);
    outage.up();
    expect(await inner.headPosition()).toBe(head);
    expect(await total()).toBe(0);
    // Once it is back, the same request goes through, once.
    expect((await increment(500, { 'idempotency-key': 'pay-1' })).statusCode).toBe(200);
    expect(await total()).toBe(500);
  });

  it('answers 503 for an opening too, and for a decrement', async () => {
    outage.down();
    expectUnavailable(await post('/counters', { owner: 'Bob' }));
    expectUnavailable(await post('/counters/ada/decrements', { amount: 1 }));
  });

  it('does not apply twice an append whose answer was lost (no Idempotency-Key)', async () => {
    outage.loseNextAcks(1);
    const response = await increment(500);
    expect(response.statusCode).toBe(200);
    expect(outage.faults).toBe(1);
    expect(response.json()).toMatchObject({ id: 'ada', revision: 1 });
    // The answer is that of the append that landed, not a replay of someone else's.
    expect(response.headers['idempotent-replayed']).toBeUndefined();
    expect(await increments()).toBe(1);
    expect(await total()).toBe(500);
  });

  it('does not apply twice an append whose answer was lost (with an Idempotency-Key), and records it once', async () => {
    outage.loseNextAcks(1);
    const response = await increment(500, { 'idempotency-key': 'pay-2' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ revision: 1 });
    expect(await increments()).toBe(1);
    const repeat = await increment(500, { 'idempotency-key': 'pay-2' });
    expect(repeat.statusCode).toBe(200);
    expect(repeat.headers['idempotent-replayed']).toBe('true');
    expect(repeat.json()).toEqual(response.json());
    expect(await total()).toBe(500);
  });

  it('answers the command when only the idempotency record lost its answer', async () => {
    // The first append is the increment; the second, the record: it lands and its answer is lost.
    const local = await serve(onAppend((n) => n === 2 && outage.loseNextAcks(1)));
    const first = await increment(300, { 'idempotency-key': 'pay-3' }, local);
    expect(first.statusCode).toBe(200);
    expect(outage.faults).toBe(1);
    const again = await increment(300, { 'idempotency-key': 'pay-3' }, local);
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await increments()).toBe(1);
    expect(await total()).toBe(300);
  });

  it('lands a lost-answer append once even when the store then stays away: 503, and the retry is a replay', async () => {
    // The increment lands, its answer is lost, and the store is then gone for longer than the retries.
    const { store } = outage;
    let first = true;
    const local = await serve({
      ...store,
      append: async (...args) => {
        if (!first) return store.append(...args);
        first = false;
        outage.loseNextAcks(1);
        try {
          return await store.append(...args);
        } finally {
          outage.down();
        }
      },
    });
    const once = await increment(400, { 'idempotency-key': 'pay-4' }, local);
    expectUnavailable(once);
    expect(await increments()).toBe(1);
    outage.up();
    const retried = await increment(400, { 'idempotency-key': 'pay-4' }, local);
    expect(retried.statusCode).toBe(200);
    expect(retried.json()).toMatchObject({ revision: 1 });
    expect(await increments()).toBe(1);
    expect(await total()).toBe(400);
  });
});
