/**
 * npm run bench:write — what the write side sustains on the embedded SQLite store.
 *
 * For a few concurrency levels it runs deposit commands through the real command pipeline
 * (read stream, fold, decide, append with optimistic concurrency) and prints appended events/s and
 * per-command latency p50/p99. Next to it, in the same run, a baseline on the same schema: bare
 * INSERTs of the same rows, one transaction (one fsync) each, as a store without group commit
 * would write them. It is not a ceiling: the store commits the appends of one event-loop turn
 * together, so with concurrency the pipeline goes well past it; the last column says by how much.
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

const oneTransactionPerEvent = () =>
  withTempDir(async (dir) => {
    const db = openEventsDatabase({ file: join(dir, 'raw.sqlite'), synchronous });
    const insert = db.prepare(
      'INSERT INTO events (stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?)',
    );
    const appendOne = db.transaction((stream: string, revision: number) =>
      insert.run(
        stream,
        revision,
        'MoneyDeposited',
        JSON.stringify({ accountId: stream, amount: 1, balanceAfter: revision }),
        JSON.stringify(metadata()),
      ),
    );
    const revisions = new Map<string, number>();
    const started = performance.now();
    for (let i = 0; i < commands; i++) {
      const stream = `account-${i % accounts}`;
      const revision = (revisions.get(stream) ?? -1) + 1;
      revisions.set(stream, revision);
      appendOne(stream, revision);
    }
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
        { type: 'OpenAccount', accountId: `bench-${a}`, owner: 'bench', currency: 'EUR' },
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
const baseline = await oneTransactionPerEvent();
console.log(
  `baseline (bare INSERT, one transaction per event, no group commit, same schema): ${baseline.toFixed(0)} events/s\n`,
);
console.log('concurrency  events/s  p50 ms  p99 ms  vs baseline');
for (const level of levels) {
  const r = await pipelineAt(level);
  console.log(
    `${String(level).padStart(11)}  ${r.eventsPerSecond.toFixed(0).padStart(8)}  ${r.p50.toFixed(2).padStart(6)}  ${r.p99.toFixed(2).padStart(6)}  ${(r.eventsPerSecond / baseline).toFixed(1).padStart(10)}x`,
  );
}
