/**
 * npm run bench:read — what the read side serves, and how fast projections catch up.
 *
 * GET /accounts/:id through the whole read API (zod validation and serialization, ETag,
 * correlation ids, problem+json plumbing, cache-aside) on a cache hit (in-process LRU, and Redis
 * when redis-server is installed) and on a miss (a cache that holds nothing, so every read goes to
 * the embedded read model), next to a bare Fastify route returning the same JSON. The ratio to
 * bare is the figure that counts: absolute numbers depend on the machine, and on a shared one they
 * drift, so the scenarios run interleaved, round after round, and the table shows medians.
 * Load comes from autocannon over loopback, from this process; each server runs in a child process.
 * Every request carries a bearer token (the development key's, subject `bench`, who owns the
 * accounts), bare included, so all scenarios parse the same requests; the read API servers verify
 * it as `npm start` does (bench-read-server.ts). The table puts each scenario next to bare: its
 * median req/s and p99 as a ratio of bare's, and the range of the per-round req/s ratio (the
 * scenarios of a round run back to back, so a round's ratio drifts less than the absolute figures),
 * and the server's CPU time per response (median of the rounds; what the machine's other load
 * disturbs least).
 *
 * Then projection catch-up: BENCH_EVENTS events appended to the embedded SQLite event store, and
 * each of the app's projectors timed from a cold start to the head of the log.
 *
 * Options (env): BENCH_ROUNDS (default 3), BENCH_DURATION_S (per scenario and round, default 3),
 * BENCH_CONNECTIONS (default 32), BENCH_MAX_REQUESTS (per run, default 300000),
 * BENCH_IDS (distinct ids requested, default 1000), BENCH_EVENTS (default 20000), BENCH_EVENT_ACCOUNTS
 * (streams they are spread over, default 1000), BENCH_CATCH_UP (0: skip the catch-up half),
 * BENCH_ONLY (scenarios to run besides bare, comma-separated: app,hit,hit-redis,miss),
 * BENCH_LOG_LEVEL (the servers' LOG_LEVEL; default: the app's default, info),
 * BENCH_CPU_PROF (a scenario: its server writes a V8 CPU profile to BENCH_CPU_PROF_DIR, default
 * the system temp folder, when it stops; summarise it with `npx tsx scripts/cpu-profile-summary.ts <file>`).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { loadOrCreateDevSigningKey, signDevToken } from '../infra/auth/dev-signing-key.js';
import {
  type RedisServer,
  redisServerAvailable,
  startRedisServer,
} from '../infra/cache/testing/redis-server.js';
import { measureCatchUp } from './bench-read-catch-up.js';
import { benchAccountId, type Scenario } from './bench-read-fixture.js';
import { reportFigures } from './bench-results.js';
import { formatTable, median, percentile } from './bench-table.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const durationS = Number(process.env.BENCH_DURATION_S ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const maxRequests = Number(process.env.BENCH_MAX_REQUESTS ?? 300_000);
const ids = Number(process.env.BENCH_IDS ?? 1000);
const events = Number(process.env.BENCH_EVENTS ?? 20_000);
const eventAccounts = Number(process.env.BENCH_EVENT_ACCOUNTS ?? 1000);
const catchUpToo = process.env.BENCH_CATCH_UP !== '0';
const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim());
const wanted = (scenario: Scenario) => only === undefined || only.includes(scenario);
const profiled = process.env.BENCH_CPU_PROF;
const profileDir = process.env.BENCH_CPU_PROF_DIR ?? join(tmpdir(), 'eventfold-profiles');

// The servers verify with the development key kept here; every request carries a token it signed.
const dataDir = mkdtempSync(join(tmpdir(), 'bench-read-'));
const token = await signDevToken(await loadOrCreateDevSigningKey(dataDir), {
  subject: 'bench',
  roles: [],
  rolesClaim: 'roles',
  ttlSeconds: 24 * 3600,
});

type Server = { name: string; scenario: Scenario; child: ChildProcess; url: string };
type Run = {
  rps: number;
  latencies: number[];
  errors: number;
  timeouts: number;
  non2xx: number;
  /** The server's CPU time (user + system) per response, in µs. */
  cpuUsPerRequest: number;
};
type Summary = {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  cpu: number;
  failed: string;
  ratios: number[];
};

/** The server's CPU time so far, in µs (bench-read-server.ts answers 'cpu'). */
const cpuOf = async ({ child }: Server) => {
  const answer = once(child, 'message') as Promise<[{ cpuUs: number }]>;
  child.send('cpu');
  const [{ cpuUs }] = await answer;
  return cpuUs;
};

const startServer = async (name: string, scenario: Scenario, env: Record<string, string> = {}) => {
  const child = fork(new URL('./bench-read-server.ts', import.meta.url), [scenario], {
    execArgv: [
      ...process.execArgv,
      ...(scenario === profiled ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    ],
    env: { ...process.env, BENCH_DATA_DIR: dataDir, BENCH_TOKEN: token, ...env },
    // The servers log as the app does by default (info); their lines go nowhere, not to this terminal.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const [message] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`bench server ${scenario} exited with code ${code}`);
    }),
  ])) as [{ url: string }];
  return { name, scenario, child, url: message.url };
};

const stopServer = async ({ child }: Server) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
};

const requests = Array.from({ length: ids }, (_, i) => ({
  method: 'GET' as const,
  path: `/accounts/${benchAccountId(i)}`,
  headers: { authorization: `Bearer ${token}` },
}));

/** One bounded autocannon run; latencies are taken per response, in fractional ms. */
const load = async (server: Server, seconds: number) => {
  const cpuBefore = await cpuOf(server);
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url: server.url, connections, duration: seconds, maxOverallRequests: maxRequests, requests },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
  const cpuUs = (await cpuOf(server)) - cpuBefore;
  return {
    rps: result.requests.average,
    latencies,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    cpuUsPerRequest: cpuUs / Math.max(1, latencies.length),
  };
};

console.log(
  `bench:read — ${rounds} rounds × ${durationS} s a scenario, ${connections} connections, ${ids} distinct ids`,
);
const servers: Server[] = [];
let redis: RedisServer | undefined;
try {
  servers.push(await startServer('bare Fastify, same JSON', 'bare'));
  if (wanted('app')) servers.push(await startServer('shared app + zod schemas, same JSON, no read', 'app'));
  if (wanted('hit')) servers.push(await startServer('read API, cache hit (LRU)', 'hit'));
  if (wanted('hit-redis') && redisServerAvailable()) {
    redis = await startRedisServer();
    servers.push(
      await startServer('read API, cache hit (Redis)', 'hit-redis', { BENCH_REDIS_URL: redis.url }),
    );
  } else if (wanted('hit-redis'))
    console.log('  skipped: Redis cache hit — redis-server not on PATH (apt-get install redis-server)');
  if (wanted('miss')) servers.push(await startServer('read API, cache miss (read model)', 'miss'));

  for (const server of servers) await load(server, 1); // warm-up: JIT, connections, caches
  const runs = new Map<Server, Run[]>(servers.map((server) => [server, []]));
  for (let round = 1; round <= rounds; round++) {
    process.stdout.write(`  round ${round}/${rounds}…\n`);
    for (const server of servers) runs.get(server)?.push(await load(server, durationS));
  }

  const bareRuns = runs.get(servers[0] as Server) ?? [];
  const summary: Summary[] = servers.map((server) => {
    const all = runs.get(server) ?? [];
    const latencies = all.flatMap((run) => run.latencies).sort((a, b) => a - b);
    return {
      name: server.name,
      rps: median(all.map((run) => run.rps)),
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      cpu: median(all.map((run) => run.cpuUsPerRequest)),
      failed: (['errors', 'timeouts', 'non2xx'] as const)
        .map((kind) => all.reduce((sum, run) => sum + run[kind], 0))
        .join('/'),
      ratios: all.map((run, i) => run.rps / (bareRuns[i]?.rps ?? Number.NaN)),
    };
  });
  const [bare] = summary;
  const percent = (ratio: number) => `${(ratio * 100).toFixed(0)} %`;
  console.log(
    `\n${formatTable(
      [
        'GET /accounts/:id, bearer token',
        'req/s (median)',
        'p50 ms',
        'p99 ms',
        'req/s vs bare',
        'per round',
        'p99 vs bare',
        'CPU µs/req',
        'errors/timeouts/non-2xx',
      ],
      summary.map((row) => [
        row.name,
        Math.round(row.rps).toLocaleString('en-US'),
        row.p50.toFixed(2),
        row.p99.toFixed(2),
        percent(row.rps / (bare?.rps ?? Number.NaN)),
        `${percent(Math.min(...row.ratios))}–${percent(Math.max(...row.ratios))}`,
        `${(row.p99 / (bare?.p99 ?? Number.NaN)).toFixed(2)}×`,
        row.cpu.toFixed(0),
        row.failed,
      ]),
    )}\n`,
  );
  console.log('goal (issue 11): a cache hit at ≥ 80 % of bare req/s, p99 ≤ 1.5× bare\n');
  const hit = summary.find((row) => row.name.startsWith('read API, cache hit (LRU)'));
  const app = summary.find((row) => row.name.startsWith('shared app'));
  if (hit && bare)
    reportFigures([
      {
        figure: 'GET /accounts/:id, cache hit (LRU), bearer token, 32 connections: req/s and p99 vs bare',
        value: `${percent(hit.rps / bare.rps)} of bare, p99 ${(hit.p99 / bare.p99).toFixed(2)}× (${hit.cpu.toFixed(0)} µs CPU a request)`,
        reference: `bare Fastify, same JSON: ${Math.round(bare.rps).toLocaleString('en-US')} req/s, ${bare.cpu.toFixed(0)} µs${app ? `; the shared app, no read: ${percent(app.rps / bare.rps)}, ${app.cpu.toFixed(0)} µs` : ''}`,
        goal: '≥ 80 % of bare, p99 ≤ 1.5×',
      },
    ]);
} finally {
  for (const server of servers) await stopServer(server);
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
if (!catchUpToo) process.exit(0);

console.log(
  `projection catch-up — ${events} events over ${eventAccounts} accounts in SQLite, projectors from cold`,
);
const catchUp = await measureCatchUp({ events, accounts: eventAccounts });
console.log(
  `\n${formatTable(
    ['projection', 'events read', 'seconds to head', 'events/s'],
    catchUp.map((row) => [
      row.projection,
      row.events.toLocaleString('en-US'),
      row.seconds.toFixed(2),
      Math.round(row.events / row.seconds).toLocaleString('en-US'),
    ]),
  )}\n`,
);
