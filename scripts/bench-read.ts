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
 *
 * Then projection catch-up: BENCH_EVENTS events appended to the embedded SQLite event store, and
 * each of the app's projectors timed from a cold start to the head of the log.
 *
 * Options (env): BENCH_ROUNDS (default 3), BENCH_DURATION_S (per scenario and round, default 3),
 * BENCH_CONNECTIONS (default 32), BENCH_MAX_REQUESTS (per run, default 300000),
 * BENCH_IDS (distinct ids requested, default 1000), BENCH_EVENTS (default 20000), BENCH_EVENT_ACCOUNTS
 * (streams they are spread over, default 1000).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import autocannon from 'autocannon';
import {
  type RedisServer,
  redisServerAvailable,
  startRedisServer,
} from '../infra/cache/testing/redis-server.js';
import { measureCatchUp } from './bench-read-catch-up.js';
import { benchAccountId, type Scenario } from './bench-read-fixture.js';
import { formatTable, median, percentile } from './bench-table.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const durationS = Number(process.env.BENCH_DURATION_S ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const maxRequests = Number(process.env.BENCH_MAX_REQUESTS ?? 300_000);
const ids = Number(process.env.BENCH_IDS ?? 1000);
const events = Number(process.env.BENCH_EVENTS ?? 20_000);
const eventAccounts = Number(process.env.BENCH_EVENT_ACCOUNTS ?? 1000);

type Server = { name: string; scenario: Scenario; child: ChildProcess; url: string };
type Run = { rps: number; latencies: number[]; failed: number };

const startServer = async (name: string, scenario: Scenario, env: Record<string, string> = {}) => {
  const child = fork(new URL('./bench-read-server.ts', import.meta.url), [scenario], {
    execArgv: process.execArgv,
    env: { ...process.env, ...env },
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
}));

/** One bounded autocannon run; latencies are taken per response, in fractional ms. */
const load = (url: string, seconds: number) =>
  new Promise<Run>((resolve, reject) => {
    const latencies: number[] = [];
    const instance = autocannon(
      { url, connections, duration: seconds, maxOverallRequests: maxRequests, requests },
      (error, result) =>
        error
          ? reject(error)
          : resolve({
              rps: result.requests.average,
              latencies,
              failed: result.errors + result.timeouts + result.non2xx,
            }),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });

console.log(
  `bench:read — ${rounds} rounds × ${durationS} s a scenario, ${connections} connections, ${ids} distinct ids`,
);
const servers: Server[] = [];
let redis: RedisServer | undefined;
try {
  servers.push(await startServer('bare Fastify, same JSON', 'bare'));
  servers.push(await startServer('shared app + zod schemas, same JSON, no read', 'app'));
  servers.push(await startServer('read API, cache hit (LRU)', 'hit'));
  if (redisServerAvailable()) {
    redis = await startRedisServer();
    servers.push(
      await startServer('read API, cache hit (Redis)', 'hit-redis', { BENCH_REDIS_URL: redis.url }),
    );
  } else console.log('  skipped: Redis cache hit — redis-server not on PATH (apt-get install redis-server)');
  servers.push(await startServer('read API, cache miss (read model)', 'miss'));

  for (const server of servers) await load(server.url, 1); // warm-up: JIT, connections, caches
  const runs = new Map<Server, Run[]>(servers.map((server) => [server, []]));
  for (let round = 1; round <= rounds; round++) {
    process.stdout.write(`  round ${round}/${rounds}…\n`);
    for (const server of servers) runs.get(server)?.push(await load(server.url, durationS));
  }

  const summary = servers.map((server) => {
    const all = runs.get(server) ?? [];
    const latencies = all.flatMap((run) => run.latencies).sort((a, b) => a - b);
    return {
      name: server.name,
      rps: median(all.map((run) => run.rps)),
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      failed: all.reduce((sum, run) => sum + run.failed, 0),
    };
  });
  const bare = summary[0]?.rps ?? Number.NaN;
  console.log(
    `\n${formatTable(
      ['GET /accounts/:id', 'req/s (median)', 'p50 ms', 'p99 ms', 'vs bare', 'failed'],
      summary.map((row) => [
        row.name,
        Math.round(row.rps).toLocaleString('en-US'),
        row.p50.toFixed(2),
        row.p99.toFixed(2),
        `${((row.rps / bare) * 100).toFixed(0)} %`,
        String(row.failed),
      ]),
    )}\n`,
  );
} finally {
  for (const server of servers) await stopServer(server);
  await redis?.stop();
}

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
