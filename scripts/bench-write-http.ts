/**
 * npm run bench:write-http — POST /accounts/:id/deposits over HTTP, as a user runs the app, next to
 * a bare Fastify POST route in the same run.
 *
 * How it is arranged: three processes. The app runs as `npm start` runs it (`node --import tsx
 * app/main.ts`, default settings: every role in one process, SQLite with synchronous=full, the
 * embedded read models, LOG_LEVEL=info with its JSON log written to a file) on a fresh temporary
 * DATA_DIR; the bare route (scripts/bench-write-http-bare.ts: Fastify without logger, hooks or
 * schemas, which parses the body and answers the same shape) in another; the load generator
 * (autocannon) in this one, so neither server shares its event loop with the load. On a 2-core
 * machine the generator still takes CPU from whichever server is loaded, the same for both.
 *
 * Before the runs, BENCH_ACCOUNTS accounts are opened over HTTP, each by its own owner; every
 * deposit then carries the bearer token of the account's owner, signed with the development key the
 * app verifies against (infra/auth/dev-signing-key.ts). Requests go round the accounts, so
 * concurrent requests hit different streams. At each concurrency level (BENCH_LEVELS), bare and app
 * are loaded in turn for BENCH_DURATION_S seconds, round after round (BENCH_ROUNDS); the table shows
 * medians over the rounds of req/s, p50 and p99, and the ratio app / bare. Any answer but 2xx is
 * counted as failed. At the end the app is stopped and its event log checked: it must hold one
 * MoneyDeposited per deposit the app acknowledged (a 2xx), no more and no less.
 *
 * Options (env): BENCH_LEVELS (default 1,8,32), BENCH_DURATION_S (default 5), BENCH_ROUNDS
 * (default 2), BENCH_ACCOUNTS (default 4000), BENCH_CPU_PROF (a folder: the app runs with
 * --cpu-prof and writes its profile there when it stops), BENCH_SERVER_ENV (extra app settings,
 * space-separated NAME=value, e.g. `SQLITE_SYNCHRONOUS=normal`).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { freePort } from '../app/testing/app-process.js';
import { loadOrCreateDevSigningKey, signDevToken } from '../infra/auth/dev-signing-key.js';
import { reportFigures } from './bench-results.js';
import { formatTable, median, percentile } from './bench-table.js';

const levels = (process.env.BENCH_LEVELS ?? '1,8,32').split(',').map(Number);
const durationS = Number(process.env.BENCH_DURATION_S ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
// Each account its own owner, each owner within the default rate limit (600 requests a minute):
// 4,000 of them allow 40,000 requests a second, and the state cache (4,096 streams) holds them all.
const accounts = Number(process.env.BENCH_ACCOUNTS ?? 4000);
const cpuProfDir = process.env.BENCH_CPU_PROF;
const serverEnv = Object.fromEntries(
  (process.env.BENCH_SERVER_ENV ?? '')
    .split(/\s+/)
    .filter((pair) => pair.includes('='))
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);

const root = fileURLToPath(new URL('..', import.meta.url));
const accountId = (i: number) => `w-${i}`;
const ownerOf = (i: number) => `owner-${i}`;

type Server = { child: ChildProcess; url: string };

/** CPU time (user + system, every thread) a process has used, in ms; undefined where /proc is not there. */
const cpuMs = (pid: number | undefined): number | undefined => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime: fields 14 and 15 of stat, 12 and 13 after the command name; in clock ticks (100 Hz).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
};

const startApp = async (dataDir: string, logFile: string): Promise<Server> => {
  const port = await freePort();
  const log = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []), '--import', 'tsx', 'app/main.ts'],
    {
      cwd: root,
      env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', ...serverEnv },
      stdio: ['ignore', log, log],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (const started = performance.now(); performance.now() - started < 60_000; ) {
    if (child.exitCode !== null)
      throw new Error(
        `the app exited with code ${child.exitCode}:\n${readFileSync(logFile, 'utf8').slice(-4000)}`,
      );
    const ready = await fetch(`${url}/health/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return { child, url };
    await sleep(100);
  }
  throw new Error('the app did not become ready within 60 s');
};

const startBare = async (): Promise<Server> => {
  const child = fork(new URL('./bench-write-http-bare.ts', import.meta.url), [], {
    execArgv: process.execArgv,
  });
  const [message] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`the bare server exited with code ${code}`);
    }),
  ])) as [{ url: string }];
  return { child, url: message.url };
};

const stop = async ({ child }: Server) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
};

/** Answers other than 2xx, by status, over the whole run. */
const statuses = new Map<number, number>();

type Run = {
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  failed: number;
  /** The server's CPU time per answered request, µs (all its threads). */
  cpuUs?: number;
};

/** One autocannon run of deposits round the accounts, each with its owner's token. */
const load = (server: Server, connections: number, seconds: number, tokens: readonly string[]) =>
  new Promise<Run>((resolve, reject) => {
    const { url } = server;
    const cpuBefore = cpuMs(server.child.pid);
    const latencies: number[] = [];
    let ok = 0;
    let failed = 0;
    let next = 0;
    const body = JSON.stringify({ amount: 1 });
    const instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        // The app closes a connection after 1,000 requests (server-limits.ts: Connection: close on
        // the last, 503 to any sent after it); autocannon does not heed Connection: close, so it
        // reconnects every 1,000 requests itself, as a client that heeds it would (both servers).
        reconnectRate: 1000,
        requests: [
          {
            method: 'POST',
            setupRequest: (request) => {
              const i = next++ % accounts;
              return {
                ...request,
                path: `/accounts/${accountId(i)}/deposits`,
                headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[i]}` },
                body,
              };
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        latencies.sort((a, b) => a - b);
        const cpuAfter = cpuMs(server.child.pid);
        resolve({
          ...(cpuBefore !== undefined &&
            cpuAfter !== undefined && { cpuUs: ((cpuAfter - cpuBefore) * 1000) / (ok + failed) }),
          rps: (ok + failed) / seconds,
          p50: percentile(latencies, 0.5),
          p99: percentile(latencies, 0.99),
          ok,
          failed: failed + result.errors + result.timeouts,
        });
      },
    );
    instance.on('response', (_client, status, _bytes, responseTime) => {
      if (status >= 200 && status < 300) ok++;
      else {
        failed++;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
      latencies.push(responseTime);
    });
  });

const openAccounts = async (url: string, tokens: readonly string[]) => {
  let next = 0;
  const opener = async () => {
    for (let i = next++; i < accounts; i = next++) {
      const response = await fetch(`${url}/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[i]}` },
        body: JSON.stringify({ accountId: accountId(i), owner: ownerOf(i), currency: 'EUR' }),
      });
      const text = await response.text();
      if (response.status !== 201) throw new Error(`opening ${accountId(i)}: ${response.status} ${text}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, opener));
};

console.log(
  `bench:write-http — POST /accounts/:id/deposits over ${accounts} accounts, each request with its owner's bearer token; ` +
    `the app as \`npm start\` runs it (default settings${Object.keys(serverEnv).length ? `, ${process.env.BENCH_SERVER_ENV}` : ''}) ` +
    `vs a bare Fastify POST route; ${rounds} round(s) of ${durationS} s per level; node ${process.version}`,
);
const dataDir = mkdtempSync(join(tmpdir(), 'eventfold-bench-write-http-'));
const logDir = mkdtempSync(join(tmpdir(), 'eventfold-bench-write-http-log-'));
const started: Server[] = [];
try {
  const key = await loadOrCreateDevSigningKey(dataDir);
  const tokens = await Promise.all(
    Array.from({ length: accounts }, (_, i) =>
      signDevToken(key, { subject: ownerOf(i), roles: [], rolesClaim: 'roles', ttlSeconds: 3600 }),
    ),
  );
  const app = await startApp(dataDir, join(logDir, 'app.log'));
  started.push(app);
  const bare = await startBare();
  started.push(bare);
  await openAccounts(app.url, tokens);
  // Warm-up: JIT, connections, the token and state caches.
  let acknowledged = (await load(app, Math.max(...levels), 2, tokens)).ok;
  await load(bare, Math.max(...levels), 2, tokens);

  const runs = new Map<string, Run[]>();
  for (let round = 0; round < rounds; round++)
    for (const connections of levels)
      for (const [name, server] of [
        ['bare', bare],
        ['app', app],
      ] as const) {
        const run = await load(server, connections, durationS, tokens);
        if (name === 'app') acknowledged += run.ok;
        const key = `${name}:${connections}`;
        runs.set(key, [...(runs.get(key) ?? []), run]);
        await sleep(500);
      }

  const ms = (value: number) => value.toFixed(2);
  const summary = new Map<number, Record<'bare' | 'app', { rps: number; p99: number }>>();
  const rows = levels.map((connections) => {
    const of = (name: string) => {
      const list = runs.get(`${name}:${connections}`) ?? [];
      return {
        rps: median(list.map((run) => run.rps)),
        p50: median(list.map((run) => run.p50)),
        p99: median(list.map((run) => run.p99)),
        rpsRange: `${Math.min(...list.map((run) => run.rps)).toFixed(0)}–${Math.max(...list.map((run) => run.rps)).toFixed(0)}`,
        failed: list.reduce((sum, run) => sum + run.failed, 0),
        cpuUs: median(list.map((run) => run.cpuUs ?? Number.NaN)),
      };
    };
    const b = of('bare');
    const a = of('app');
    summary.set(connections, { bare: b, app: a });
    return [
      String(connections),
      b.rps.toFixed(0),
      ms(b.p50),
      ms(b.p99),
      b.cpuUs.toFixed(0),
      a.rps.toFixed(0),
      a.rpsRange,
      ms(a.p50),
      ms(a.p99),
      a.cpuUs.toFixed(0),
      `${((a.rps / b.rps) * 100).toFixed(1)} %`,
      String(a.failed + b.failed),
    ];
  });
  console.log(
    `\n${formatTable(
      [
        'connections',
        'bare req/s',
        'bare p50 ms',
        'bare p99 ms',
        'bare CPU µs/req',
        'app req/s',
        'app range',
        'app p50 ms',
        'app p99 ms',
        'app CPU µs/req',
        'app / bare',
        'failed',
      ],
      rows,
    )}\n`,
  );
  console.log(
    'req/s, p50, p99 and CPU: medians over the rounds; app range: the lowest and highest round; ' +
      "CPU µs/req: the server process's CPU time (all its threads) over the run, per answer",
  );
  const top = Math.max(...levels);
  const at = summary.get(top);
  if (at)
    reportFigures([
      {
        figure: `POST /accounts/:id/deposits over HTTP, ${top} connections, req/s (p99)`,
        value: `${at.app.rps.toFixed(0)} (${at.app.p99.toFixed(1)} ms), ${((at.app.rps / at.bare.rps) * 100).toFixed(0)} % of bare`,
        reference: `bare Fastify POST route: ${at.bare.rps.toFixed(0)} (${at.bare.p99.toFixed(1)} ms)`,
        goal: '≥ 25 % of bare, p99 ≤ 20 ms',
      },
    ]);
  if (statuses.size > 0)
    console.log(`failed answers by status: ${JSON.stringify(Object.fromEntries(statuses))}`);

  await stop(app);
  const db = new Database(join(dataDir, 'events.sqlite'), { readonly: true });
  const deposits = db
    .prepare(
      "SELECT COUNT(*) FROM events WHERE type = 'MoneyDeposited' AND json_extract(metadata, '$.actor') LIKE 'owner-%'",
    )
    .pluck()
    .get() as number;
  db.close();
  // Requests still in flight when a run ends may land unanswered: more in the log is fine, fewer is a lost write.
  console.log(`event log after stop: ${deposits} deposits, ${acknowledged} acknowledged`);
  const warnings = new Map<string, number>();
  for (const line of readFileSync(join(logDir, 'app.log'), 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const { level, msg, err } = JSON.parse(line) as {
      level?: number;
      msg?: string;
      err?: { message?: string };
    };
    if ((level ?? 0) < 40) continue;
    const text = `${msg}${err?.message ? `: ${err.message}` : ''}`;
    warnings.set(text, (warnings.get(text) ?? 0) + 1);
  }
  for (const [text, count] of warnings) console.log(`app log, warn or worse, ${count}×: ${text}`);
  if (deposits < acknowledged)
    throw new Error(`${acknowledged - deposits} acknowledged deposits are not in the log`);
} finally {
  for (const server of started) await stop(server);
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(logDir, { recursive: true, force: true });
}
