/**
 * npm run bench:write — what the write side sustains on the embedded SQLite store.
 *
 * For a few concurrency levels it runs deposit commands through the real command pipeline
 * (read stream, fold, decide, append with optimistic concurrency) and prints appended events/s and
 * per-command latency p50/p99. Next to it, in the same run, the same schema written bare (INSERTs of
 * the same rows, no pipeline, no store): once with one transaction (one fsync) per event, as a
 * store without group commit would write, and once with as many events per transaction as the
 * highest concurrency level, which is the most the store's group commit can put in one commit:
 * the raw ceiling for that level. The last two columns compare each level to both.
 *
 * Options (env): BENCH_COMMANDS (per level, default 4000), BENCH_ACCOUNTS (default 256),
 * BENCH_LEVELS (default 1,4,16,64), SQLITE_SYNCHRONOUS (full|normal, default full).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createCommandHandler } from '../commands/pipeline/handle-command.js';
import { accountAggregate } from '../domain/accounts/account.js';
import { createSqliteEventStore, openEventsDatabase } from '../infra/event-store/sqlite-event-store.js';
import { reportFigures } from './bench-results.js';
import { percentile } from './bench-table.js';

const commands = Number(process.env.BENCH_COMMANDS ?? 4000);
const accounts = Number(process.env.BENCH_ACCOUNTS ?? 256);
const levels = (process.env.BENCH_LEVELS ?? '1,4,16,64').split(',').map(Number);
const synchronous = process.env.SQLITE_SYNCHRONOUS === 'normal' ? 'normal' : 'full';

const metadata = () => ({
  eventId: randomUUID(),
  correlationId: randomUUID(),
  causationId: randomUUID(),
  occurredAt: new Date().toISOString(),
  schemaVersion: 1,
});

const withTempDir = async <T>(run: (dir: string) => Promise<T>): Promise<T> => {
  const dir = mkdtempSync(join(tmpdir(), 'eventfold-bench-'));
  try {
    return await run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

const bareInserts = (perTransaction: number) =>
  withTempDir(async (dir) => {
    const db = openEventsDatabase({ file: join(dir, 'raw.sqlite'), synchronous });
    const insert = db.prepare(
      'INSERT INTO events (stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?)',
    );
    const revisions = new Map<string, number>();
    const insertNext = (i: number) => {
      const stream = `account-${i % accounts}`;
      const revision = (revisions.get(stream) ?? -1) + 1;
      revisions.set(stream, revision);
      insert.run(
        stream,
        revision,
        'MoneyDeposited',
        JSON.stringify({ accountId: stream, amount: 1, balanceAfter: revision }),
        JSON.stringify(metadata()),
      );
    };
    const commit = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) insertNext(i);
    });
    const started = performance.now();
    for (let i = 0; i < commands; i += perTransaction) commit(i, Math.min(commands, i + perTransaction));
    const seconds = (performance.now() - started) / 1000;
    db.close();
    return commands / seconds;
  });

const pipelineAt = (concurrency: number) =>
  withTempDir(async (dir) => {
    const eventStore = createSqliteEventStore({ file: join(dir, 'events.sqlite'), synchronous });
    const handle = createCommandHandler({ eventStore, maxRetries: 50 });
    const context = () => ({ correlationId: randomUUID(), causationId: randomUUID() });
    for (let a = 0; a < accounts; a++)
      await handle(
        accountAggregate,
        `bench-${a}`,
        {
          type: 'OpenAccount',
          accountId: `bench-${a}`,
          owner: 'bench',
          currency: 'EUR',
          by: { subject: 'bench', roles: [] },
        },
        context(),
      );

    const latencies: number[] = [];
    let next = 0;
    const worker = async () => {
      while (next < commands) {
        const i = next++;
        const accountId = `bench-${i % accounts}`;
        const started = performance.now();
        await handle(accountAggregate, accountId, { type: 'DepositMoney', accountId, amount: 1 }, context());
        latencies.push(performance.now() - started);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;
    await eventStore.close();
    latencies.sort((a, b) => a - b);
    return {
      eventsPerSecond: commands / seconds,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
    };
  });

console.log(
  `bench:write — ${commands} deposit commands per level over ${accounts} accounts, SQLite synchronous=${synchronous}, node ${process.version}`,
);
const maxLevel = Math.max(...levels);
const baseline = await bareInserts(1);
const ceiling = await bareInserts(maxLevel);
console.log(
  `bare INSERTs, same schema, 1 event per transaction:   ${baseline.toFixed(0).padStart(7)} events/s`,
);
console.log(
  `bare INSERTs, same schema, ${maxLevel} events per transaction: ${ceiling.toFixed(0).padStart(7)} events/s (raw ceiling)\n`,
);
console.log('concurrency  events/s  p50 ms  p99 ms  vs 1/transaction  of raw ceiling');
let best = { level: 0, eventsPerSecond: 0 };
for (const level of levels) {
  const r = await pipelineAt(level);
  if (r.eventsPerSecond > best.eventsPerSecond) best = { level, eventsPerSecond: r.eventsPerSecond };
  console.log(
    `${String(level).padStart(11)}  ${r.eventsPerSecond.toFixed(0).padStart(8)}  ${r.p50.toFixed(2).padStart(6)}  ${r.p99.toFixed(2).padStart(6)}  ${`${(r.eventsPerSecond / baseline).toFixed(1)}x`.padStart(16)}  ${`${((r.eventsPerSecond / ceiling) * 100).toFixed(0)}%`.padStart(14)}`,
  );
}
reportFigures([
  {
    figure: `deposits through the command pipeline in process, events/s (best of concurrency ${levels.join(', ')})`,
    value: `${best.eventsPerSecond.toFixed(0)} at ${best.level}`,
    reference: `bare SQLite INSERTs: ${baseline.toFixed(0)} one per transaction, ${ceiling.toFixed(0)} ${maxLevel} per transaction`,
    goal: '',
  },
]);
