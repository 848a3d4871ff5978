/**
 * npm run bench:hot — one busy account under concurrent deposits, and whether the rest of the
 * process still answers meanwhile.
 *
 * A fresh temp DATA_DIR; accounts filled through the command pipeline (no HTTP, to be quick): `hot`
 * with BENCH_HOT_EVENTS events, `hot-keyed` the same but every deposit under an Idempotency-Key,
 * `fresh` with only its AccountOpened. Then the app as `npm start` runs it (`node --import tsx
 * app/main.ts`, default settings: every role in one process, SQLite with synchronous=full), in a
 * child process, and from this process autocannon POSTs deposits to one account with
 * BENCH_CONNECTIONS connections for BENCH_DURATION_S seconds, while a second loop GETs
 * /health/live one request at a time (a pause of BENCH_LIVE_PAUSE_MS between them) and times it.
 *
 * Scenarios, in this order: /health/live alone (idle); the fresh account (the reference); the hot
 * account; the hot account again with an Idempotency-Key on every request. Printed per scenario:
 * req/s, status counts (2xx / 409 / other), p50/p99 latency of the deposits, /health/live
 * p50/p99/max, and the account's events before and after.
 *
 * Options (env): BENCH_HOT_EVENTS (default 3300), BENCH_CONNECTIONS (default 32),
 * BENCH_DURATION_S (default 10), BENCH_LIVE_PAUSE_MS (default 10), BENCH_LOG_LEVEL (the server's
 * LOG_LEVEL, default warn: at info pino writes two lines a request, which would be the benchmark),
 * BENCH_CPU_PROF (a folder: the server runs with --cpu-prof and writes its profile there on exit),
 * BENCH_SERVER_ENV (extra server settings, e.g. `COMMAND_STATE_CACHE_SIZE=0`, space-separated).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createCommandHandler } from '../commands/pipeline/handle-command.js';
import { accountAggregate } from '../domain/accounts/account.js';
import { loadOrCreateDevSigningKey, signDevToken } from '../infra/auth/dev-signing-key.js';
import { createEventStore } from '../infra/event-store/create-event-store.js';
import { freePort } from '../infra/testing/free-port.js';
import { formatTable, percentile } from './bench-table.js';

const hotEvents = Number(process.env.BENCH_HOT_EVENTS ?? 3300);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const durationS = Number(process.env.BENCH_DURATION_S ?? 10);
const livePauseMs = Number(process.env.BENCH_LIVE_PAUSE_MS ?? 10);
const logLevel = process.env.BENCH_LOG_LEVEL ?? 'warn';
const cpuProfDir = process.env.BENCH_CPU_PROF;
const serverEnv = Object.fromEntries(
  (process.env.BENCH_SERVER_ENV ?? '')
    .split(/\s+/)
    .filter((pair) => pair.includes('='))
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);

const root = fileURLToPath(new URL('..', import.meta.url));
/** Every request carries a bearer token, as a user's would: signed with the development key the server made. */
let authorization = '';
const context = () => ({ correlationId: randomUUID(), causationId: randomUUID() });

/** Opens each account and deposits into it until its stream holds `events` events. */
const fill = async (dataDir: string, accounts: { id: string; events: number; keyed: boolean }[]) => {
  const eventStore = await createEventStore({ DATA_DIR: dataDir, SQLITE_SYNCHRONOUS: 'full' });
  const handle = createCommandHandler({ eventStore, maxRetries: 10 });
  try {
    for (const { id, events, keyed } of accounts) {
      await handle(
        accountAggregate,
        id,
        {
          type: 'OpenAccount',
          accountId: id,
          owner: 'bench',
          currency: 'EUR',
          by: { subject: 'bench', roles: [] },
        },
        context(),
      );
      for (let i = 1; i < events; i++) {
        const command = { type: 'DepositMoney' as const, accountId: id, amount: 1 };
        const key = `fill-${id}-${i}`;
        await handle(accountAggregate, id, command, {
          ...context(),
          ...(keyed && { idempotency: { key, requestHash: key } }),
        });
      }
    }
  } finally {
    await eventStore.close();
  }
};

const startServer = async (dataDir: string, port: number) => {
  const child = spawn(
    process.execPath,
    [...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []), '--import', 'tsx', 'app/main.ts'],
    {
      cwd: root,
      env: {
        ...process.env,
        DATA_DIR: dataDir,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: logLevel,
        LOG_FORMAT: 'json',
        // One caller sending thousands of requests a second is the benchmark, not an abuse to limit.
        RATE_LIMIT_MAX: '0',
        RATE_LIMIT_ANONYMOUS_MAX: '0',
        ...serverEnv,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (const started = performance.now(); performance.now() - started < 60_000; ) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}`);
    const ready = await fetch(`${url}/health/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return { child, url };
    await sleep(100);
  }
  throw new Error('the server did not become ready within 60 s');
};

const stopServer = async (child: ChildProcess) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
};

/** Times GET /health/live, one request at a time, until `signal` aborts. */
const probeLive = async (url: string, signal: AbortSignal) => {
  const latencies: number[] = [];
  let failed = 0;
  while (!signal.aborted) {
    const started = performance.now();
    try {
      const response = await fetch(`${url}/health/live`);
      await response.arrayBuffer();
      if (!response.ok) failed++;
    } catch {
      failed++;
    }
    latencies.push(performance.now() - started);
    await sleep(livePauseMs);
  }
  return { latencies: latencies.sort((a, b) => a - b), failed };
};

/** One deposit, alone, timed from request to response. */
const timedDeposit = async (url: string, accountId: string) => {
  const started = performance.now();
  const response = await fetch(`${url}/accounts/${accountId}/deposits`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ amount: 1 }),
  });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`deposit on ${accountId} answered ${response.status}`);
  return performance.now() - started;
};

type Row = {
  name: string;
  rps?: number;
  ok?: number;
  conflicts?: number;
  other?: number;
  p50?: number;
  p99?: number;
  live: { latencies: number[]; failed: number };
  events?: [number, number];
};

const idle = async (url: string): Promise<Row> => {
  const stop = new AbortController();
  const live = probeLive(url, stop.signal);
  await sleep(2000);
  stop.abort();
  return { name: '/health/live alone (idle)', live: await live };
};

const deposits = async (
  url: string,
  name: string,
  accountId: string,
  events: number,
  { keyed = false, seconds = durationS }: { keyed?: boolean; seconds?: number } = {},
) => {
  const statuses = new Map<number, number>();
  const latencies: number[] = [];
  const stop = new AbortController();
  const live = probeLive(url, stop.signal);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            path: `/accounts/${accountId}/deposits`,
            headers: { 'content-type': 'application/json', authorization },
            body: JSON.stringify({ amount: 1 }),
            ...(keyed && {
              setupRequest: (request) => ({
                ...request,
                headers: { ...request.headers, 'idempotency-key': randomUUID() },
              }),
            }),
          },
        ],
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
      latencies.push(responseTime);
    });
  });
  stop.abort();
  latencies.sort((a, b) => a - b);
  let ok = 0;
  let conflicts = 0;
  let other = 0;
  for (const [status, count] of statuses)
    if (status >= 200 && status < 300) ok += count;
    else if (status === 409) conflicts += count;
    else other += count;
  other += result.errors + result.timeouts;
  return {
    name,
    rps: (ok + conflicts + other) / seconds,
    ok,
    conflicts,
    other,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    live: await live,
    events: [events, events + ok],
  } satisfies Row;
};

console.log(
  `bench:hot — ${connections} connections × ${durationS} s of POST /accounts/:id/deposits against \`npm start\` (SQLite synchronous=full, LOG_LEVEL=${logLevel}${
    Object.keys(serverEnv).length ? `, ${process.env.BENCH_SERVER_ENV}` : ''
  }), node ${process.version}`,
);
const dataDir = mkdtempSync(join(tmpdir(), 'eventfold-bench-hot-'));
let server: { child: ChildProcess; url: string } | undefined;
try {
  const filling = performance.now();
  await fill(dataDir, [
    { id: 'warm-up', events: 1, keyed: false },
    { id: 'fresh', events: 1, keyed: false },
    { id: 'hot', events: hotEvents, keyed: false },
    { id: 'hot-keyed', events: hotEvents, keyed: true },
  ]);
  console.log(
    `filled: hot and hot-keyed, ${hotEvents} events each, through the pipeline in ${((performance.now() - filling) / 1000).toFixed(1)} s`,
  );
  server = await startServer(dataDir, await freePort());
  const key = await loadOrCreateDevSigningKey(dataDir);
  authorization = `Bearer ${await signDevToken(key, { subject: 'bench', roles: [], rolesClaim: 'roles', ttlSeconds: 3600 })}`;
  const { url } = server;
  await deposits(url, 'warm-up', 'warm-up', 1, { seconds: 2 }); // JIT, connections
  await sleep(1000);
  const rows: Row[] = [await idle(url)];
  rows.push(await deposits(url, 'fresh account (reference)', 'fresh', 1));
  await sleep(1000);
  // The first command on the hot account in this process: nothing cached yet, the whole stream is read.
  const cold = await timedDeposit(url, 'hot');
  rows.push(await deposits(url, `hot account (${hotEvents} events)`, 'hot', hotEvents + 1));
  await sleep(1000);
  const coldKeyed = await timedDeposit(url, 'hot-keyed');
  rows.push(
    await deposits(url, 'hot account, Idempotency-Key each', 'hot-keyed', hotEvents + 1, { keyed: true }),
  );
  const ms = (value: number | undefined) => (value === undefined ? '' : value.toFixed(1));
  console.log(
    `\n${formatTable(
      [
        'scenario',
        'req/s',
        '2xx',
        '409',
        'other',
        'p50 ms',
        'p99 ms',
        'live p50',
        'live p99',
        'live max',
        'events before → after',
      ],
      rows.map((row) => [
        row.name,
        row.rps === undefined ? '' : row.rps.toFixed(0),
        row.ok === undefined ? '' : String(row.ok),
        row.conflicts === undefined ? '' : String(row.conflicts),
        row.other === undefined ? '' : String(row.other + row.live.failed),
        ms(row.p50),
        ms(row.p99),
        ms(percentile(row.live.latencies, 0.5)),
        ms(percentile(row.live.latencies, 0.99)),
        ms(row.live.latencies.at(-1)),
        row.events ? `${row.events[0]} → ${row.events[1]}` : '',
      ]),
    )}\n`,
  );
  console.log('"other": other statuses, socket errors and timeouts, and failed /health/live probes');
  console.log(
    `first deposit on each hot account, alone, before its load (the process had not read it yet): ${cold.toFixed(1)} ms, keyed ${coldKeyed.toFixed(1)} ms`,
  );
} finally {
  if (server) await stopServer(server.child);
  rmSync(dataDir, { recursive: true, force: true });
}
