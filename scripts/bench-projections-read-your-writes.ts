/**
 * The read-your-writes half of bench:projections: one write at a time (low load), then a read that
 * must see it, with the projectors flushing when idle (PROJECTION_FLUSH=idle, the default) and
 * with the timer alone (timer, the behaviour before), side by side in one run.
 *
 * - In process: a command through the pipeline into the embedded SQLite event store (default
 *   settings, so every commit is fsynced), then the time until both fixture projections have
 *   written it (what a read with x-min-position waits for), as startProjections runs them with the
 *   cache refresh after each batch.
 * - Over HTTP: the app as a deployment runs it (the fixture module, app/testing/app-process.ts,
 *   default settings, a development bearer token on every request), POST an increment, then GET
 *   the counter with x-min-position set to the position the POST answered; the same GET without
 *   the header is the floor.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AppProcess, startAppProcess } from '../app/testing/app-process.js';
import { createCommandHandler } from '../commands/pipeline/handle-command.js';
import { counterAggregate } from '../domain/shared/testing/counter.js';
import { loadOrCreateDevSigningKey, signDevToken } from '../infra/auth/dev-signing-key.js';
import { createLruCache } from '../infra/cache/lru-cache.js';
import { loadConfig } from '../infra/config.js';
import { createSqliteEventStore } from '../infra/event-store/sqlite-event-store.js';
import { createLogger } from '../infra/logger.js';
import { createEmbeddedReadStore } from '../infra/read-store/embedded-read-store.js';
import {
  COUNTER_CHANGES_PROJECTION,
  COUNTERS_PROJECTION,
  fixtureProjections,
} from '../projections/engine/testing/fixture-projection.js';
import { startProjections } from '../projections/start-projections.js';

export type FlushMode = 'idle' | 'timer';
export const FLUSH_MODES: readonly FlushMode[] = ['idle', 'timer'];

/** Latencies in ms, one per write, by mode, over every round. */
export type Latencies = Map<string, number[]>;

const context = () => ({ correlationId: randomUUID(), causationId: randomUUID() });

/** In process: `writes` increments per mode and round, each followed by the wait for both projections. */
export const readYourWritesInProcess = async ({ writes, rounds }: { writes: number; rounds: number }) => {
  const dir = mkdtempSync(join(tmpdir(), 'eventfold-bench-ryw-'));
  const eventStore = createSqliteEventStore({ file: join(dir, 'events.sqlite') });
  const readStore = createEmbeddedReadStore({ file: join(dir, 'read-models.sqlite') });
  const cache = createLruCache({ maxEntries: 100 });
  const handle = createCommandHandler({ eventStore, maxRetries: 10 });
  const latencies: Latencies = new Map(FLUSH_MODES.map((mode) => [mode, []]));
  try {
    await handle(
      counterAggregate,
      'ryw',
      { type: 'OpenCounter', counterId: 'ryw', owner: 'bench' },
      context(),
    );
    for (let round = 0; round < rounds; round++) {
      for (const mode of FLUSH_MODES) {
        const config = loadConfig({ PROJECTION_FLUSH: mode });
        const projections = startProjections({
          eventStore,
          readStore,
          logger: createLogger({ level: 'warn' }),
          config,
          projections: fixtureProjections({ cache: { cache, ttlSeconds: config.CACHE_TTL_SECONDS } }),
        });
        try {
          const head = await eventStore.headPosition();
          if (head !== undefined)
            for (const name of [COUNTERS_PROJECTION, COUNTER_CHANGES_PROJECTION])
              await projections.waitForCheckpoint(name, head, { timeoutMs: 60_000 });
          for (let i = 0; i < writes; i++) {
            const { position } = await handle(
              counterAggregate,
              'ryw',
              { type: 'Increment', counterId: 'ryw', amount: 1 },
              context(),
            );
            const written = performance.now();
            const reached = await Promise.all(
              [COUNTERS_PROJECTION, COUNTER_CHANGES_PROJECTION].map((name) =>
                projections.waitForCheckpoint(name, position, { timeoutMs: 10_000 }),
              ),
            );
            if (!reached.every(Boolean)) throw new Error(`position ${position} was not projected in 10 s`);
            latencies.get(mode)?.push(performance.now() - written);
          }
        } finally {
          await projections.stop();
        }
      }
    }
    return latencies;
  } finally {
    await eventStore.close();
    await readStore.close();
    await cache.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

type App = { mode: FlushMode; app: AppProcess; dir: string; token: string };

const startApp = async (mode: FlushMode, started: App[]): Promise<App> => {
  const dir = mkdtempSync(join(tmpdir(), `eventfold-bench-ryw-http-${mode}-`));
  const key = await loadOrCreateDevSigningKey(dir);
  const token = await signDevToken(key, {
    subject: 'bench',
    roles: ['admin'],
    rolesClaim: 'roles',
    ttlSeconds: 3600,
  });
  const app = await startAppProcess({
    // One caller writing and reading as fast as it can is the benchmark, not an abuse to limit.
    env: {
      DATA_DIR: dir,
      PROJECTION_FLUSH: mode,
      LOG_LEVEL: 'warn',
      AUTH_DISABLED: 'false',
      RATE_LIMIT_MAX: '0',
      RATE_LIMIT_ANONYMOUS_MAX: '0',
    },
    track: (child) => started.push({ mode, app: { child } as AppProcess, dir, token }),
  });
  if (!app.ready)
    throw new Error(`the app (PROJECTION_FLUSH=${mode}) exited with ${app.code}:\n${app.stderr()}`);
  const entry = started[started.length - 1] as App;
  entry.app = app;
  return entry;
};

const call = async (
  { app, token }: App,
  method: 'GET' | 'POST',
  path: string,
  { body, headers = {} }: { body?: unknown; headers?: Record<string, string> } = {},
) => {
  const response = await fetch(`${app.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
};

/**
 * Over HTTP: `writes` POST-then-GET pairs per app and round, the apps taking turns; the GET's
 * latency with x-min-position, and without it (the floor) right after.
 */
export const readYourWritesOverHttp = async ({ writes, rounds }: { writes: number; rounds: number }) => {
  const started: App[] = [];
  const latencies: Latencies = new Map();
  const record = (key: string, ms: number) => {
    const list = latencies.get(key) ?? [];
    list.push(ms);
    latencies.set(key, list);
  };
  try {
    const apps: App[] = [];
    for (const mode of FLUSH_MODES) apps.push(await startApp(mode, started));
    for (const app of apps) {
      const { position } = await call(app, 'POST', '/counters', {
        body: { counterId: 'ryw', owner: 'bench' },
      });
      // Warm-up: JIT, connections, the state and read caches.
      for (let i = 0; i < 20; i++)
        await call(app, 'GET', '/counters/ryw', { headers: { 'x-min-position': String(position) } });
    }
    for (let round = 0; round < rounds; round++) {
      for (const app of apps) {
        for (let i = 0; i < writes; i++) {
          const { position } = await call(app, 'POST', '/counters/ryw/increments', { body: { amount: 1 } });
          let start = performance.now();
          const read = await call(app, 'GET', '/counters/ryw', {
            headers: { 'x-min-position': String(position) },
          });
          record(app.mode, performance.now() - start);
          if (typeof read.revision !== 'number' || read.total === undefined)
            throw new Error(`GET /counters/ryw answered ${JSON.stringify(read)}`);
          start = performance.now();
          await call(app, 'GET', '/counters/ryw');
          record(`${app.mode}, no x-min-position`, performance.now() - start);
          await sleep(2); // one write at a time, with a pause: low load
        }
      }
    }
    return latencies;
  } finally {
    for (const { app, dir } of started) {
      if (app.child.exitCode === null && app.child.signalCode === null) {
        app.child.kill('SIGTERM');
        await app.exited;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }
};
