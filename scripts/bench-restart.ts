/**
 * npm run bench:restart — how long the embedded default takes to come back: from starting the
 * process until it is ready AND the last write is readable (a GET with x-min-position of the
 * log's head answers 200), with BENCH_EVENTS events in the log.
 *
 * A fresh temp DATA_DIR gets BENCH_EVENTS account events (BENCH_ACCOUNTS accounts, deposits spread
 * over them), appended straight to the SQLite store in batches (the shape the pipeline writes,
 * quicker to make). Then the app as `npm start` runs it (`node --import tsx app/main.ts`, default
 * settings, without rate limits), in a child process, three times:
 *   - first start: the read models are built from the whole log (what a start did every time
 *     before they were kept on disk);
 *   - restart after SIGTERM: they resume from their checkpoints;
 *   - restart after kill -9: the same, from whatever the process had written.
 * References in the same run: opening the log with its start checks alone (what every start pays,
 * growing with the log's size), and the process's start with an empty DATA_DIR.
 *
 * Options (env): BENCH_EVENTS (default 200000), BENCH_ACCOUNTS (default 1000).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { loadOrCreateDevSigningKey, signDevToken } from '../infra/auth/dev-signing-key.js';
import { createEventStore } from '../infra/event-store/create-event-store.js';
import { type EventData, positionToJson } from '../infra/event-store/event-store.js';
import { freePort } from '../infra/testing/free-port.js';
import { reportFigures } from './bench-results.js';
import { formatTable } from './bench-table.js';

const totalEvents = Number(process.env.BENCH_EVENTS ?? 200_000);
const accounts = Number(process.env.BENCH_ACCOUNTS ?? 1000);
const root = fileURLToPath(new URL('..', import.meta.url));

const metadata = (): EventData['metadata'] => ({
  eventId: randomUUID(),
  correlationId: 'bench-restart',
  causationId: 'bench-restart',
  actor: 'bench',
  occurredAt: new Date().toISOString(),
  schemaVersion: 1,
});

/** The log: each account opened, then deposits in rounds until `totalEvents` events; its head. */
const fill = async (dataDir: string) => {
  const store = await createEventStore(
    { DATA_DIR: dataDir, SQLITE_SYNCHRONOUS: 'normal' },
    { exclusive: true },
  );
  try {
    const perAccount = Math.max(1, Math.floor(totalEvents / accounts));
    let last = '';
    for (let a = 0; a < accounts; a++) {
      const accountId = `bench-${String(a).padStart(6, '0')}`;
      const events: EventData[] = [
        {
          type: 'AccountOpened',
          data: { accountId, owner: 'Bench', ownerId: 'bench', currency: 'EUR' },
          metadata: metadata(),
        },
      ];
      for (let i = 1; i < perAccount; i++)
        events.push({
          type: 'MoneyDeposited',
          data: { accountId, amount: 1, balanceAfter: i, reference: `r${i}` },
          metadata: metadata(),
        });
      for (let from = 0; from < events.length; from += 1000) {
        const { position } = await store.append(`account-${accountId}`, events.slice(from, from + 1000), {
          expectedRevision: from === 0 ? 'no_stream' : from - 1,
        });
        last = accountId;
        void position;
      }
    }
    const head = await store.headPosition();
    return {
      head: head === undefined ? '0' : positionToJson(head),
      lastAccount: last,
      events: perAccount * accounts,
    };
  } finally {
    await store.close();
  }
};

/** Starts the app and resolves with the seconds until `ready` says so. */
const timedStart = async (dataDir: string, ready: (url: string) => Promise<boolean>) => {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      RATE_LIMIT_MAX: '0',
      RATE_LIMIT_ANONYMOUS_MAX: '0',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  while (performance.now() - started < 600_000) {
    if (child.exitCode !== null) throw new Error(`the app exited with code ${child.exitCode}`);
    if (await ready(url).catch(() => false)) return { child, seconds: (performance.now() - started) / 1000 };
    await sleep(20);
  }
  child.kill('SIGKILL');
  throw new Error('the app did not become ready within 600 s');
};

const stop = async (child: ChildProcess, signal: NodeJS.Signals) => {
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
};

const dataDir = mkdtempSync(join(tmpdir(), 'eventfold-bench-restart-'));
const emptyDir = mkdtempSync(join(tmpdir(), 'eventfold-bench-restart-empty-'));
try {
  const filling = performance.now();
  const { head, lastAccount, events } = await fill(dataDir);
  console.log(`filled: ${events} events in ${((performance.now() - filling) / 1000).toFixed(1)} s`);
  const key = await loadOrCreateDevSigningKey(dataDir);
  const token = await signDevToken(key, {
    subject: 'bench',
    roles: [],
    rolesClaim: 'roles',
    ttlSeconds: 3600,
  });
  const headers = { authorization: `Bearer ${token}`, 'x-min-position': head };
  /** Ready, and the last account's last write readable: what a user waits for. */
  const lastWriteReadable = async (url: string) => {
    if (!(await fetch(`${url}/health/ready`)).ok) return false;
    const response = await fetch(`${url}/accounts/${lastAccount}/transactions?limit=1`, { headers });
    await response.arrayBuffer();
    return response.ok;
  };

  const checks = performance.now();
  await (
    await createEventStore({ DATA_DIR: dataDir, SQLITE_SYNCHRONOUS: 'full' }, { exclusive: true })
  ).close();
  const logChecks = (performance.now() - checks) / 1000;

  const empty = await timedStart(emptyDir, async (url) => (await fetch(`${url}/health/ready`)).ok);
  await stop(empty.child, 'SIGTERM');

  const first = await timedStart(dataDir, lastWriteReadable);
  await stop(first.child, 'SIGTERM');
  const again = await timedStart(dataDir, lastWriteReadable);
  await stop(again.child, 'SIGKILL');
  const afterKill = await timedStart(dataDir, lastWriteReadable);
  await stop(afterKill.child, 'SIGTERM');

  const mb = (file: string) => (statSync(join(dataDir, file)).size / 1e6).toFixed(0);
  console.log(
    `\n${events} events (events.sqlite ${mb('events.sqlite')} MB, read-models.sqlite ${mb('read-models.sqlite')} MB), ${accounts} accounts; seconds from process start until ready with the last write readable\n`,
  );
  console.log(
    formatTable(
      ['start', 'seconds'],
      [
        ['first start: read models built from the whole log', first.seconds.toFixed(2)],
        ['restart after SIGTERM: resumed from checkpoints', again.seconds.toFixed(2)],
        ['restart after kill -9: resumed from checkpoints', afterKill.seconds.toFixed(2)],
        ['reference: the log opened and checked, alone', logChecks.toFixed(2)],
        ['reference: the app started on an empty DATA_DIR', empty.seconds.toFixed(2)],
      ],
    ),
  );
  reportFigures([
    {
      figure: `embedded restart until ready with the last write readable, ${events.toLocaleString('en')} events`,
      value: `${again.seconds.toFixed(2)} s (after kill -9: ${afterKill.seconds.toFixed(2)} s)`,
      reference: `first start, models built from the log: ${first.seconds.toFixed(2)} s; empty DATA_DIR: ${empty.seconds.toFixed(2)} s`,
      goal: '≤ 5 s at 1M events',
    },
  ]);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(emptyDir, { recursive: true, force: true });
}
