import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminHeaders, testAuthentication } from '../infra/auth/testing/test-tokens.js';
import { redisServerAvailable, startRedisServer } from '../infra/cache/testing/redis-server.js';
import { createEventStoreDbEventStore } from '../infra/event-store/eventstoredb-event-store.js';
import {
  type EsdbTestServer,
  startEsdbTestServer,
} from '../infra/event-store/testing/esdb-test-server/index.js';
import { createLogger } from '../infra/logger.js';
import { mongoForSuite } from '../infra/read-store/testing/ferretdb-server.js';
import { loadAppConfig } from './config.js';
import type { AnyModule } from './module.js';
import { modules as appModules } from './modules.js';
import { type System, startSystem } from './system.js';
import { fixtureModule } from './testing/fixture-module.js';

/**
 * The production shape through the production adapters and their real clients: write, read and
 * projector each started as a system of its own (as three processes would be), sharing nothing but
 * the servers. Which servers:
 * - EventStoreDB: EVENTSTORE_URL, else the project's wire-level test server (a protocol-level
 *   stand-in, not EventStoreDB), which also gives the faults (dropped subscriptions).
 * - MongoDB: MONGO_URL (a replica set), else FerretDB (MongoDB wire protocol over SQLite).
 * - Redis: REDIS_URL, else a redis-server started here.
 * The systems serve the engines' fixture module and the app's modules (app/modules.ts): the
 * fixture's walk-through always runs; the README's (the example's accounts and transfers) runs
 * while the example is there.
 */
const modules: readonly AnyModule[] = [fixtureModule, ...appModules];
const listed: readonly AnyModule[] = appModules;
const example = ['accounts', 'transfers'].every((name) => listed.some((module) => module.name === name));
if (!example)
  console.warn(
    "skipped: the README's walk-through on the split topology — app/modules.ts has no accounts and transfers modules (the example was removed)",
  );
const mongo = mongoForSuite('the split topology on production adapters');
const redisReason =
  process.env.REDIS_URL || redisServerAvailable() ? undefined : 'no redis-server binary and no REDIS_URL';
if (redisReason) console.warn(`skipped: the split topology on production adapters — ${redisReason}`);
if (process.env.EVENTSTORE_URL)
  console.warn(
    'skipped: the dropped-subscriptions case of the split topology — it needs the test server, not EVENTSTORE_URL',
  );

describe.skipIf(!mongo || redisReason)('split roles on EventStoreDB, MongoDB and Redis clients', () => {
  const systems: Record<string, System> = {};
  let esdb: EsdbTestServer | undefined;
  let stopRedis: (() => Promise<void>) | undefined;
  let servers: { EVENTSTORE_URL: string; MONGO_URL: string; REDIS_URL: string };

  beforeAll(async () => {
    await mongo!.start();
    esdb = process.env.EVENTSTORE_URL ? undefined : await startEsdbTestServer();
    const redis = process.env.REDIS_URL ? undefined : await startRedisServer();
    stopRedis = redis?.stop;
    servers = {
      EVENTSTORE_URL: process.env.EVENTSTORE_URL ?? esdb!.url,
      MONGO_URL: mongo!.url(),
      REDIS_URL: process.env.REDIS_URL ?? redis!.url,
    };
    const db = mongo!.dbName('topology');
    for (const roles of ['projector', 'write', 'read'])
      systems[roles] = await startSystem(
        loadAppConfig(
          {
            ...servers,
            MONGO_DB: db,
            ROLES: roles,
            PORT: '0',
            HOST: '127.0.0.1',
            READY_MAX_LAG: '1000',
            READ_CONSISTENCY_TIMEOUT_MS: '4000',
          },
          modules,
        ),
        createLogger({ level: 'warn' }),
        // With EVENTSTORE_URL this is production: tokens from an issuer (here, the tests' own keys).
        { modules, auth: testAuthentication },
      );
  }, 60_000);
  afterAll(async () => {
    // One at a time, the projector (which appends in the background) first: the client's batch
    // appends keep their pending answers in one map shared by every client of the process, and a
    // client that closes fails all of them, another client's included (@eventstore/db-client 6.2.1,
    // batchAppend.js). Production runs one client per process.
    for (const roles of ['projector', 'write', 'read']) await systems[roles]?.stop();
    await esdb?.stop();
    await stopRedis?.();
    await mongo?.stop();
  }, 30_000);

  const url = (roles: string, path: string) => new URL(path, systems[roles]?.url);
  const post = (path: string, body: object, headers: Record<string, string> = {}) =>
    fetch(url('write', path), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...adminHeaders(), ...headers },
      body: JSON.stringify(body),
    });
  const read = (path: string, position?: string) =>
    fetch(url('read', path), {
      headers: { ...adminHeaders(), ...(position ? { 'x-min-position': position } : {}) },
    });
  const positionOf = async (response: Response) => ((await response.json()) as { position: string }).position;

  const expectReady = async () => {
    for (const roles of Object.keys(systems)) {
      const response = await fetch(url(roles, '/health/ready'));
      const body = (await response.json()) as { checks: Record<string, { status: string }> };
      expect(response.status, `${roles}: ${JSON.stringify(body)}`).toBe(200);
      for (const [name, check] of Object.entries(body.checks))
        expect(check.status, `${roles} ${name}`).toBe('up');
    }
  };

  /**
   * The fixture's walk-through, through the split roles: commands on the write role (a refusal, an
   * idempotent repeat), reads of them on the read role with x-min-position, and a job that the
   * process manager on the projector role drives to its end.
   */
  const fixtureWalkThrough = async () => {
    const ada = `ada-${randomUUID()}`;
    expect((await post('/counters', { counterId: ada, owner: 'Ada Lovelace' })).status).toBe(201);
    expect((await post(`/counters/${ada}/increments`, { amount: 10_000, note: 'salary' })).status).toBe(200);
    expect((await post(`/counters/${ada}/decrements`, { amount: 2_500 })).status).toBe(200);
    const refused = await post(`/counters/${ada}/decrements`, { amount: 999_999 });
    expect(refused.status).toBe(422);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const key = { 'idempotency-key': `pay-${randomUUID()}` };
    const first = await post(`/counters/${ada}/increments`, { amount: 500 }, key);
    const again = await post(`/counters/${ada}/increments`, { amount: 500 }, key);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const position = await positionOf(first);
    expect(await positionOf(again)).toBe(position);

    const counter = await read(`/counters/${ada}`, position);
    expect(counter.status).toBe(200);
    expect(await counter.json()).toMatchObject({ counterId: ada, total: 8_000, revision: 3 });
    const changes = await read(`/counters/${ada}/changes?limit=2`, position);
    expect(((await changes.json()) as { items: unknown[] }).items).toHaveLength(2);
    const owned = await read(`/counters?owner=${encodeURIComponent('Ada Lovelace')}`, position);
    expect(owned.status).toBe(200);

    const jobId = `job-${randomUUID()}`;
    expect((await post('/jobs', { jobId, tallyId: ada, amount: 1 })).status).toBe(202);
    const store = createEventStoreDbEventStore(servers.EVENTSTORE_URL);
    try {
      const finished = async () =>
        (await store.readStream(`job-${jobId}`)).some((event) => event.type === 'JobFinished');
      await expect.poll(finished, { timeout: 10_000, interval: 100 }).toBe(true);
    } finally {
      await store.close();
    }
  };

  /** The README's walk-through (the example's), through the split roles. */
  const walkThrough = async () => {
    const ada = `ada-${randomUUID()}`;
    const bob = `bob-${randomUUID()}`;
    expect((await post('/accounts', { accountId: ada, owner: 'Ada Lovelace', currency: 'EUR' })).status).toBe(
      201,
    );
    expect((await post(`/accounts/${ada}/deposits`, { amount: 10_000, reference: 'salary' })).status).toBe(
      200,
    );
    expect((await post(`/accounts/${ada}/withdrawals`, { amount: 2_500 })).status).toBe(200);
    const overdraft = await post(`/accounts/${ada}/withdrawals`, { amount: 999_999 });
    expect(overdraft.status).toBe(422);
    expect(overdraft.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const key = { 'idempotency-key': `pay-${randomUUID()}` };
    const first = await post(`/accounts/${ada}/deposits`, { amount: 500 }, key);
    const again = await post(`/accounts/${ada}/deposits`, { amount: 500 }, key);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const position = await positionOf(first);
    expect(await positionOf(again)).toBe(position);

    const account = await read(`/accounts/${ada}`, position);
    expect(account.status).toBe(200);
    expect(await account.json()).toMatchObject({ accountId: ada, balance: 8_000, revision: 3 });
    const transactions = await read(`/accounts/${ada}/transactions?limit=2`, position);
    expect(((await transactions.json()) as { items: unknown[] }).items).toHaveLength(2);
    const owned = await read(`/accounts?owner=${encodeURIComponent('Ada Lovelace')}&status=open`, position);
    expect(owned.status).toBe(200);

    expect((await post('/accounts', { accountId: bob, owner: 'Bob', currency: 'EUR' })).status).toBe(201);
    const transfer = await post(
      '/transfers',
      { fromAccountId: ada, toAccountId: bob, amount: 1_500 },
      { prefer: 'wait=10' },
    );
    const outcome = (await transfer.json()) as { status: string; transferId: string; position: string };
    expect(outcome.status, JSON.stringify(outcome)).toBe('completed');
    const settled = await read(`/transfers/${outcome.transferId}`, outcome.position);
    expect(await settled.json()).toMatchObject({ status: 'completed', amount: 1_500 });
    const credited = await read(`/accounts/${bob}`, outcome.position);
    expect(await credited.json()).toMatchObject({ balance: 1_500 });
  };

  it('every role is ready', expectReady);

  it(
    'runs the fixture walk-through, a process manager included, across the roles',
    fixtureWalkThrough,
    60_000,
  );

  it.skipIf(!example)(
    "runs the README's walk-through, a transfer included, across the roles",
    walkThrough,
    60_000,
  );

  it('answers x-min-position for an event no projection reads without waiting for later events', async () => {
    // On a quiet log the filtered subscriptions' next checkpoint is 32 events away.
    const store = createEventStoreDbEventStore(servers.EVENTSTORE_URL);
    try {
      const counterId = `quiet-${randomUUID()}`;
      await post('/counters', { counterId, owner: 'Q' });
      const { position } = await store.append(
        `unrelated-${randomUUID()}`,
        [
          {
            type: 'Unrelated',
            data: {},
            metadata: {
              eventId: randomUUID(),
              correlationId: randomUUID(),
              causationId: randomUUID(),
              occurredAt: new Date().toISOString(),
              schemaVersion: 1,
            },
          },
        ],
        { expectedRevision: 'no_stream' },
      );
      const response = await read(`/counters/${counterId}`, position.toString());
      expect(response.status).toBe(200);
    } finally {
      await store.close();
    }
  });

  it.runIf(!process.env.EVENTSTORE_URL)(
    'keeps working after every subscription is dropped (a leader change) and after 300 readiness checks',
    async () => {
      esdb!.faults.dropSubscriptions();
      for (let i = 0; i < 300; i += 1) {
        const response = await fetch(url(i % 2 ? 'read' : 'write', '/health/ready'));
        await response.arrayBuffer();
      }
      const started = Date.now();
      const response = await post('/counters', { counterId: `after-${randomUUID()}`, owner: 'A' });
      expect(response.status).toBe(201);
      expect(Date.now() - started, 'a command answers within a second').toBeLessThan(1_000);
      await fixtureWalkThrough();
      if (example) await walkThrough();
      await expectReady();
    },
    60_000,
  );
});
