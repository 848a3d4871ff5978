/**
 * npm run bench:memory — how much memory the embedded default holds with BENCH_EVENTS events in
 * its log, and what holds it.
 *
 * A fresh temporary DATA_DIR is filled through the command pipeline (no HTTP, to be quick):
 * BENCH_ACCOUNTS accounts, each opened by its own owner, then deposits round them until the log
 * holds BENCH_EVENTS events. Then the app runs as `npm start` runs it (`node --import tsx
 * app/main.ts`, default settings, in a child process) and is measured at three moments:
 *
 * 1. first start: its projectors build the read models from the whole log (the read models are
 *    empty), measured once a read with x-min-position at the log's head has answered;
 * 2. restart: the read models are on disk and the projectors resume from their checkpoints;
 * 3. the restarted app after BENCH_LOAD_S seconds of deposits over HTTP round every account (each
 *    with its owner's bearer token), which fills the caches a running app fills: the command
 *    pipeline's state cache, the verified-token cache, the read cache; and again 15 s later, idle.
 *
 * Each moment prints the process's resident memory (/proc: VmRSS, with its anonymous and
 * file-backed parts) next to V8's heap (used and total, from /metrics, read with a development
 * admin token) and the memory outside the heap, and the same for a bare Fastify process run the
 * same way (scripts/bench-write-http-bare.ts under tsx) as the floor every Node server starts from.
 * Linux only (/proc).
 *
 * Options (env): BENCH_EVENTS (default 200000), BENCH_ACCOUNTS (default 2000), BENCH_LOAD_S
 * (default 10).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort } from '../app/testing/app-process.js';
import { createCommandHandler } from '../commands/pipeline/handle-command.js';
import { accountAggregate } from '../domain/accounts/account.js';
import { loadOrCreateDevSigningKey, signDevToken } from '../infra/auth/dev-signing-key.js';
import { createEventStore } from '../infra/event-store/create-event-store.js';
import { reportFigures } from './bench-results.js';
import { formatTable } from './bench-table.js';

const events = Number(process.env.BENCH_EVENTS ?? 200_000);
const accounts = Number(process.env.BENCH_ACCOUNTS ?? 2000);
const loadS = Number(process.env.BENCH_LOAD_S ?? 10);

const root = fileURLToPath(new URL('..', import.meta.url));
const accountId = (i: number) => `m-${i}`;
const ownerOf = (i: number) => `owner-${i}`;
const mb = (bytes: number | undefined) => (bytes === undefined ? '' : `${(bytes / 2 ** 20).toFixed(0)} MB`);

const fill = async (dataDir: string) => {
  const eventStore = await createEventStore({ DATA_DIR: dataDir }, { exclusive: true });
  const handle = createCommandHandler({ eventStore, maxRetries: 10 });
  const context = () => ({ correlationId: randomUUID(), causationId: randomUUID() });
  /** `count` commands, 64 at a time. */
  const inParallel = async (count: number, command: (i: number) => Promise<unknown>) => {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < count; i = next++) await command(i);
    };
    await Promise.all(Array.from({ length: 64 }, worker));
  };
  try {
    await inParallel(accounts, (a) =>
      handle(
        accountAggregate,
        accountId(a),
        {
          type: 'OpenAccount',
          accountId: accountId(a),
          owner: ownerOf(a),
          currency: 'EUR',
          by: { subject: ownerOf(a), roles: [] },
        },
        { ...context(), actor: ownerOf(a) },
      ),
    );
    await inParallel(events - accounts, (i) => {
      const a = i % accounts;
      return handle(
        accountAggregate,
        accountId(a),
        { type: 'DepositMoney', accountId: accountId(a), amount: 1 },
        { ...context(), actor: ownerOf(a) },
      );
    });
    return await eventStore.headPosition();
  } finally {
    await eventStore.close();
  }
};

type Process = { child: ChildProcess; url: string };

const start = async (args: string[], env: Record<string, string>, logFile: string): Promise<Process> => {
  const port = await freePort();
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', log, log, 'ipc'],
  });
  const url = `http://127.0.0.1:${port}`;
  if (args.includes('app/main.ts')) {
    for (const started = performance.now(); performance.now() - started < 120_000; ) {
      if (child.exitCode !== null)
        throw new Error(
          `the app exited with ${child.exitCode}:\n${readFileSync(logFile, 'utf8').slice(-4000)}`,
        );
      if (
        await fetch(`${url}/health/ready`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return { child, url };
      await sleep(100);
    }
    throw new Error('the app did not become ready within 120 s');
  }
  const [message] = (await once(child, 'message')) as [{ url: string }];
  return { child, url: message.url };
};

const stop = async ({ child }: Process) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
};

/** VmRSS and its parts, in bytes, from /proc/<pid>/status. */
const residentOf = (pid: number | undefined) => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
};

/** The V8 heap as the app's /metrics tells it (prom-client's default metrics). */
const heapOf = async (url: string, token: string) => {
  const text = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } }).then((r) =>
    r.text(),
  );
  const value = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  return {
    heapUsed: value('nodejs_heap_size_used_bytes'),
    heapTotal: value('nodejs_heap_size_total_bytes'),
    external: value('nodejs_external_memory_bytes'),
  };
};

/** Waits until the accounts read model has the log's head: a read that waits for it has answered. */
const caughtUp = async (url: string, token: string, head: bigint) => {
  for (let tries = 0; tries < 600; tries++) {
    const response = await fetch(`${url}/accounts/${accountId(0)}`, {
      headers: { authorization: `Bearer ${token}`, 'x-min-position': String(head) },
    });
    await response.arrayBuffer();
    if (response.ok) return;
    await sleep(500);
  }
  throw new Error(`the read models did not reach position ${head}`);
};

const deposits = (url: string, tokens: readonly string[], seconds: number) =>
  new Promise<number>((resolve, reject) => {
    let next = 0;
    autocannon(
      {
        url,
        connections: 16,
        duration: seconds,
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
                body: JSON.stringify({ amount: 1 }),
              };
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result['2xx'])),
    );
  });

console.log(
  `bench:memory — the embedded default (\`npm start\`, default settings) with ${events.toLocaleString('en')} events over ${accounts} accounts; node ${process.version}`,
);
const dataDir = mkdtempSync(join(tmpdir(), 'eventfold-bench-memory-'));
const logDir = mkdtempSync(join(tmpdir(), 'eventfold-bench-memory-log-'));
const running: Process[] = [];
try {
  const filling = performance.now();
  const head = await fill(dataDir);
  if (head === undefined) throw new Error('nothing was appended');
  console.log(`filled through the pipeline in ${((performance.now() - filling) / 1000).toFixed(0)} s`);
  const key = await loadOrCreateDevSigningKey(dataDir);
  const sign = (subject: string, roles: string[]) =>
    signDevToken(key, { subject, roles, rolesClaim: 'roles', ttlSeconds: 3600 });
  const admin = await sign('bench-admin', ['admin']);
  const tokens = await Promise.all(Array.from({ length: accounts }, (_, i) => sign(ownerOf(i), [])));

  const rows: string[][] = [];
  const rssOf: number[] = [];
  const measure = async (name: string, server: Process, withHeap: boolean) => {
    await sleep(2000); // let what was just done settle (timers, a garbage collection)
    const { rss, anon, file } = residentOf(server.child.pid);
    rssOf.push(rss);
    const heap = withHeap ? await heapOf(server.url, admin) : undefined;
    const outside = heap?.heapTotal === undefined ? undefined : rss - heap.heapTotal;
    rows.push([
      name,
      mb(rss),
      mb(anon),
      mb(file),
      mb(heap?.heapUsed),
      mb(heap?.heapTotal),
      mb(outside),
      mb(heap?.external),
    ]);
  };

  const appArgs = ['--import', 'tsx', 'app/main.ts'];
  const appEnv = { DATA_DIR: dataDir };
  let started = performance.now();
  let app = await start(appArgs, appEnv, join(logDir, 'app.log'));
  running.push(app);
  await caughtUp(app.url, admin, head);
  const buildS = (performance.now() - started) / 1000;
  await measure(`first start, read models built from the log (${buildS.toFixed(0)} s)`, app, true);
  await stop(app);

  started = performance.now();
  app = await start(appArgs, appEnv, join(logDir, 'app.log'));
  running.push(app);
  await caughtUp(app.url, admin, head);
  const restartS = (performance.now() - started) / 1000;
  await measure(`restart, read models resumed from disk (${restartS.toFixed(1)} s)`, app, true);
  const answered = await deposits(app.url, tokens, loadS);
  await measure(`after ${loadS} s of deposits (${answered} answered)`, app, true);
  await sleep(15_000);
  await measure('the same, 15 s later, idle', app, true);
  await stop(app);

  const bare = await start(
    ['--import', 'tsx', 'scripts/bench-write-http-bare.ts'],
    {},
    join(logDir, 'bare.log'),
  );
  running.push(bare);
  await measure('bare Fastify under tsx, idle (the floor)', bare, false);

  console.log(
    `\n${formatTable(
      ['process', 'RSS', 'anonymous', 'file-backed', 'heap used', 'heap total', 'RSS − heap', 'external'],
      rows,
    )}\n`,
  );
  const [first, restarted, loaded, , floor] = rssOf;
  reportFigures([
    {
      figure: `memory, embedded, ${events.toLocaleString('en')} events: RSS after a first start, a restart, ${loadS} s of deposits`,
      value: `${mb(first)}, ${mb(restarted)}, ${mb(loaded)}`,
      reference: `bare Fastify under tsx: ${mb(floor)}`,
      goal: 'stated in the README with its cause',
    },
  ]);
  console.log(
    'RSS: VmRSS, anonymous (heap, native allocations such as SQLite page caches) plus file-backed (the node binary, ' +
      'shared libraries, memory-mapped SQLite WAL index); heap: V8, from /metrics; RSS − heap: everything outside ' +
      'the V8 heap; external: memory V8 knows of outside its heap (Buffers)',
  );
} finally {
  for (const process of running) await stop(process);
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(logDir, { recursive: true, force: true });
}
