import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { checkpointStream } from '../commands/transfers/checkpoint-stream.js';
import { createSqliteEventStore } from '../infra/event-store/sqlite-event-store.js';
import { createLogger } from '../infra/logger.js';
import { loadAppConfig } from './config.js';
import { type System, startSystem } from './system.js';

/**
 * The system as `npm start` runs it, one ROLES subset at a time: on port 0, with the embedded
 * stores in a temporary DATA_DIR, over real HTTP.
 */
const dirs: string[] = [];
const systems: System[] = [];
afterEach(async () => {
  await Promise.all(systems.splice(0).map((system) => system.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const start = async (env: Record<string, string>, dir = mkdtempSync(join(tmpdir(), 'eventfold-system-'))) => {
  dirs.push(dir);
  const config = loadAppConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, ...env });
  const system = await startSystem(config, createLogger({ level: 'silent' }));
  systems.push(system);
  const http = async (path: string, init?: RequestInit) => {
    const response = await fetch(new URL(path, system.url), init);
    const text = await response.text();
    return { status: response.status, text, json: () => JSON.parse(text) };
  };
  const post = (path: string, body: object) =>
    http(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  return { system, http, post, dir };
};

/** The value of one sample line, e.g. `name{a="b"} 3`; undefined when the series is absent. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe.each([
  { roles: 'write', routes: { write: true, read: false }, checks: ['eventStore'] },
  // The read role opens the event store only to measure the projections' lag.
  { roles: 'read', routes: { write: false, read: true }, checks: ['readStore', 'cache', 'projections'] },
  { roles: 'projector', routes: { write: false, read: false }, checks: ['eventStore', 'readStore', 'cache'] },
  {
    roles: 'write,read,projector',
    routes: { write: true, read: true },
    checks: ['eventStore', 'readStore', 'cache', 'projections'],
  },
])('ROLES=$roles', ({ roles, routes, checks }) => {
  it('starts, serves health, metrics and its own routes only, and stops cleanly', async () => {
    const { system, http, post } = await start({ ROLES: roles });
    expect(system.roles).toEqual(roles.split(','));

    expect((await http('/health/live')).json()).toEqual({ status: 'up' });
    const ready = await http('/health/ready');
    expect(ready.status).toBe(200);
    expect(Object.keys(ready.json().checks).sort()).toEqual([...checks].sort());
    const metrics = await http('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/^process_resident_memory_bytes /m);

    const opened = await post('/accounts', { accountId: 'a1', owner: 'Ada', currency: 'EUR' });
    expect(opened.status).toBe(routes.write ? 201 : 404);
    const read = await http('/accounts/nobody');
    expect(read.json().type).toMatch(routes.read ? /account-not-found$/ : /route-not-found$/);
    if (routes.write || routes.read) expect((await http('/openapi.json')).status).toBe(200);

    await system.stop();
    // Stopped means closed: the port no longer answers.
    await expect(fetch(new URL('/health/live', system.url))).rejects.toThrow();
  });
});

describe('the whole system in one process', () => {
  it('exposes the series of every layer on /metrics', async () => {
    const { http, post } = await start({});
    await post('/accounts', { accountId: 'm1', owner: 'Ada', currency: 'EUR' });
    const deposit = await post('/accounts/m1/deposits', { amount: 10 });
    await post('/accounts/m1/withdrawals', { amount: 1000 });
    const position = deposit.json().position as string;
    // A read that waits for a position skips the cache; the two after it go through it.
    expect((await http('/accounts/m1', { headers: { 'x-min-position': position } })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await http('/accounts/m1')).status).toBe(200);

    const text = (await http('/metrics')).text;
    const count = (route: string, method: string, status: number) =>
      sample(
        text,
        `eventfold_http_request_duration_seconds_count{method="${method}",route="${route}",status_code="${status}"}`,
      );
    expect(count('/accounts', 'POST', 201)).toBe(1);
    expect(count('/accounts/:id/deposits', 'POST', 200)).toBe(1);
    expect(count('/accounts/:id/withdrawals', 'POST', 422)).toBe(1);
    expect(count('/accounts/:id', 'GET', 200)).toBe(3);
    expect(
      sample(text, 'eventfold_commands_total{command="OpenAccount",outcome="accepted",reason="appended"}'),
    ).toBe(1);
    expect(
      sample(
        text,
        'eventfold_commands_total{command="WithdrawMoney",outcome="rejected",reason="insufficient_funds"}',
      ),
    ).toBe(1);
    expect(sample(text, 'eventfold_events_appended_total{event_type="AccountOpened"}')).toBe(1);
    expect(sample(text, 'eventfold_events_appended_total{event_type="MoneyDeposited"}')).toBe(1);
    const hits = sample(text, 'eventfold_read_cache_total{result="hit"}') ?? 0;
    const misses = sample(text, 'eventfold_read_cache_total{result="miss"}') ?? 0;
    expect(hits + misses).toBe(2);
    expect(hits).toBeGreaterThanOrEqual(1);
    for (const projection of ['accounts', 'account-transactions']) {
      expect(sample(text, `eventfold_projection_lag_events{projection="${projection}"}`)).toBeTypeOf(
        'number',
      );
      expect(sample(text, `eventfold_projection_events_per_second{projection="${projection}"}`)).toBeTypeOf(
        'number',
      );
      expect(sample(text, `eventfold_projection_leading{projection="${projection}"}`)).toBe(1);
      expect(sample(text, `eventfold_projection_parked_events{projection="${projection}"}`)).toBe(0);
    }
    expect(sample(text, 'eventfold_projection_events_total{projection="accounts"}')).toBeGreaterThanOrEqual(
      2,
    );
    expect(sample(text, 'eventfold_projection_cache_refresh_failures_total{projection="accounts"}')).toBe(0);
  });

  it('loads no OpenTelemetry SDK while tracing is off', async () => {
    await start({});
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    expect(loaded.some((file) => file.includes('@opentelemetry/api'))).toBe(true); // the check sees modules
    expect(loaded.filter((file) => /@opentelemetry\/sdk-|@fastify\/otel|exporter-trace/.test(file))).toEqual(
      [],
    );
  });

  it('loads no EventStoreDB, MongoDB or Redis client in the embedded mode', async () => {
    await start({});
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    expect(loaded.some((file) => file.includes('better-sqlite3'))).toBe(true); // the check sees modules
    expect(loaded.filter((file) => /node_modules\/(@eventstore|mongodb|ioredis)\//.test(file))).toEqual([]);
  });
});

describe('an idle system', () => {
  it('appends nothing while idle, before and after a restart, once its history is checkpointed', async () => {
    const { system, post, dir } = await start({});
    for (const accountId of ['ada', 'bob']) {
      expect((await post('/accounts', { accountId, owner: 'T', currency: 'EUR' })).status).toBe(201);
      expect((await post(`/accounts/${accountId}/deposits`, { amount: 100 })).status).toBe(200);
    }
    const transfer = await post('/transfers', { fromAccountId: 'ada', toAccountId: 'bob', amount: 30 });
    expect(transfer.status).toBe(202);
    // The same log, read from the test: what the process manager stored, and everything appended.
    const log = createSqliteEventStore({ file: join(dir, 'events.sqlite') });
    try {
      const transferCompleted = async () =>
        (await log.readAll()).find((e) => e.type === 'TransferCompleted')?.position;
      await expect.poll(transferCompleted, { timeout: 5_000 }).toBeDefined();
      // The transfer's checkpoint is stored while the app runs (the save interval is 1 s).
      const completedAt = (await transferCompleted()) as bigint;
      const stored = () => checkpointStream(log, 'transfer-process').load();
      await expect.poll(stored, { timeout: 5_000 }).toBeGreaterThanOrEqual(completedAt);
      const appendedWhileIdle = async () => {
        await sleep(200);
        const before = (await log.readAll()).length;
        await sleep(3_000);
        return (await log.readAll()).slice(before).map((e) => `${e.type} ${e.streamId}`);
      };
      expect(await appendedWhileIdle()).toEqual([]);

      await system.stop();
      const { http } = await start({}, dir);
      expect((await http('/health/ready')).status).toBe(200);
      expect(await appendedWhileIdle()).toEqual([]);
    } finally {
      await log.close();
    }
  }, 30_000);
});

describe('start-up failure', () => {
  it('rejects when the port is taken, after releasing what it had opened', async () => {
    const { system } = await start({});
    const port = new URL(system.url).port;
    const dir = mkdtempSync(join(tmpdir(), 'eventfold-system-'));
    dirs.push(dir);
    const config = loadAppConfig({ PORT: port, HOST: '127.0.0.1', DATA_DIR: dir });
    await expect(startSystem(config, createLogger({ level: 'silent' }))).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });
});
