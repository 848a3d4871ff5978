import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { checkpointStream } from '../commands/process-manager/checkpoint-stream.js';
import { loadOrCreateDevSigningKey, signDevToken } from '../infra/auth/dev-signing-key.js';
import { createSqliteEventStore } from '../infra/event-store/sqlite-event-store.js';
import { createLogger } from '../infra/logger.js';
import { loadAppConfig } from './config.js';
import { type System, startSystem } from './system.js';
import { fixtureModule } from './testing/fixture-module.js';

/**
 * The system as `npm start` runs it, one ROLES subset at a time: on port 0, with the embedded
 * stores in a temporary DATA_DIR, over real HTTP. With the engines' fixture module
 * (app/testing/fixture-module.ts: counters, and a job process manager), not the example's.
 */
const modules = [fixtureModule];
const dirs: string[] = [];
const systems: System[] = [];
afterEach(async () => {
  await Promise.all(systems.splice(0).map((system) => system.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const start = async (env: Record<string, string>, dir = mkdtempSync(join(tmpdir(), 'eventfold-system-'))) => {
  dirs.push(dir);
  const config = loadAppConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, ...env }, modules);
  const system = await startSystem(config, createLogger({ level: 'silent' }), { modules });
  systems.push(system);
  // As a new user does: a token signed with the development key the system made under DATA_DIR.
  const token = await signDevToken(await loadOrCreateDevSigningKey(dir), {
    subject: 'system-test',
    roles: ['admin'],
    rolesClaim: 'roles',
    ttlSeconds: 600,
  });
  const http = async (path: string, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
    const response = await fetch(new URL(path, system.url), { ...init, headers });
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

    const opened = await post('/counters', { counterId: 'a1', owner: 'Ada' });
    expect(opened.status).toBe(routes.write ? 201 : 404);
    const read = await http('/counters/nobody');
    expect(read.json().type).toMatch(routes.read ? /counter-not-found$/ : /route-not-found$/);
    if (routes.write || routes.read) expect((await http('/openapi.json')).status).toBe(200);

    await system.stop();
    // Stopped means closed: the port no longer answers.
    await expect(fetch(new URL('/health/live', system.url))).rejects.toThrow();
  });
});

describe('the whole system in one process', () => {
  it('exposes the series of every layer on /metrics', async () => {
    const { http, post } = await start({});
    await post('/counters', { counterId: 'm1', owner: 'Ada' });
    const increment = await post('/counters/m1/increments', { amount: 10 });
    await post('/counters/m1/decrements', { amount: 1000 });
    const position = increment.json().position as string;
    // A read that waits for a position skips the cache; the two after it go through it.
    expect((await http('/counters/m1', { headers: { 'x-min-position': position } })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await http('/counters/m1')).status).toBe(200);

    const text = (await http('/metrics')).text;
    const count = (route: string, method: string, status: number) =>
      sample(
        text,
        `eventfold_http_request_duration_seconds_count{method="${method}",route="${route}",status_code="${status}"}`,
      );
    expect(count('/counters', 'POST', 201)).toBe(1);
    expect(count('/counters/:id/increments', 'POST', 200)).toBe(1);
    expect(count('/counters/:id/decrements', 'POST', 422)).toBe(1);
    expect(count('/counters/:id', 'GET', 200)).toBe(3);
    expect(
      sample(text, 'eventfold_commands_total{command="OpenCounter",outcome="accepted",reason="appended"}'),
    ).toBe(1);
    expect(
      sample(text, 'eventfold_commands_total{command="Decrement",outcome="rejected",reason="below_zero"}'),
    ).toBe(1);
    expect(sample(text, 'eventfold_events_appended_total{event_type="CounterOpened"}')).toBe(1);
    expect(sample(text, 'eventfold_events_appended_total{event_type="Incremented"}')).toBe(1);
    const hits = sample(text, 'eventfold_read_cache_total{result="hit"}') ?? 0;
    const misses = sample(text, 'eventfold_read_cache_total{result="miss"}') ?? 0;
    expect(hits + misses).toBe(2);
    expect(hits).toBeGreaterThanOrEqual(1);
    for (const projection of ['counters', 'counter-changes']) {
      expect(sample(text, `eventfold_projection_lag_events{projection="${projection}"}`)).toBeTypeOf(
        'number',
      );
      expect(sample(text, `eventfold_projection_events_per_second{projection="${projection}"}`)).toBeTypeOf(
        'number',
      );
      expect(sample(text, `eventfold_projection_leading{projection="${projection}"}`)).toBe(1);
      expect(sample(text, `eventfold_projection_parked_events{projection="${projection}"}`)).toBe(0);
    }
    expect(sample(text, 'eventfold_projection_events_total{projection="counters"}')).toBeGreaterThanOrEqual(
      2,
    );
    expect(sample(text, 'eventfold_projection_cache_refresh_failures_total{projection="counters"}')).toBe(0);
  });

  it('verifies bearer tokens with the development key on the embedded default', async () => {
    const { http } = await start({});
    const anonymous = await http('/counters/c1', { headers: { authorization: 'Bearer nope' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json()).toMatchObject({ status: 401, type: expect.stringMatching(/unauthenticated$/) });
    const missing = await fetch(new URL('/counters/c1', (systems.at(-1) as System).url));
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="eventfold"');
    expect((await http('/health/live', { headers: { authorization: 'Bearer nope' } })).status).toBe(200);
    expect((await http('/counters/c1')).status).toBe(404); // the token made by start(): let in
  });

  it('refuses to start in production without an identity provider, before opening anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eventfold-system-'));
    dirs.push(dir);
    const config = loadAppConfig(
      { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, EVENTSTORE_URL: 'esdb://127.0.0.1:1?tls=false' },
      modules,
    );
    await expect(startSystem(config, createLogger({ level: 'silent' }), { modules })).rejects.toThrow(
      /AUTH_JWKS_URL/,
    );
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
    for (const counterId of ['ada', 'bob']) {
      expect((await post('/counters', { counterId, owner: 'T' })).status).toBe(201);
      expect((await post(`/counters/${counterId}/increments`, { amount: 100 })).status).toBe(200);
    }
    const job = await post('/jobs', { jobId: 'j1', tallyId: 'ada', amount: 30 });
    expect(job.status).toBe(202);
    // The same log, read from the test: what the process manager stored, and everything appended.
    const log = createSqliteEventStore({ file: join(dir, 'events.sqlite') });
    try {
      const jobFinished = async () => (await log.readAll()).find((e) => e.type === 'JobFinished')?.position;
      await expect.poll(jobFinished, { timeout: 5_000 }).toBeDefined();
      // The process manager's checkpoint is stored while the app runs (the save interval is 1 s).
      const completedAt = (await jobFinished()) as bigint;
      const stored = () => checkpointStream(log, 'job-process').load();
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
    const config = loadAppConfig({ PORT: port, HOST: '127.0.0.1', DATA_DIR: dir }, modules);
    await expect(startSystem(config, createLogger({ level: 'silent' }), { modules })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });
});
