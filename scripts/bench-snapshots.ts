/**
 * npm run bench:snapshots — what a cold command costs on a long stream, with and without snapshots.
 *
 * On the embedded SQLite store, through the real command pipeline with no state cache
 * (stateCacheSize 0: every command starts cold, as after a restart or in another process), one
 * deposit at a time, p50/p99/mean latency of:
 * - a fresh account (one event: opened), a different one per command;
 * - an account of BENCH_EVENTS events (default 100,000) without snapshots: read and folded whole;
 * - the same with snapshots (accounts' policy: every 100 events), the first command (which takes
 *   the first snapshot) not counted;
 * - the same with every event carrying an idempotency key (a process manager's step keys, which
 *   never expire) and each command a new key: the snapshot also holds the keys' filter (~180 kB).
 * The long streams are written with appends of 1,000 events the account decider decided, so the
 * events are what the pipeline would have written.
 *
 * Options (env): BENCH_EVENTS (default 100000), BENCH_COMMANDS (per scenario, default 300; 20 for
 * the one without snapshots), SQLITE_SYNCHRONOUS (full|normal, default full).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createCommandHandler } from '../commands/pipeline/handle-command.js';
import { type AccountCommand, type AccountState, accountAggregate } from '../domain/accounts/account.js';
import { fold } from '../domain/shared/decider.js';
import type { EventData, EventStore } from '../infra/event-store/event-store.js';
import { createSqliteEventStore } from '../infra/event-store/sqlite-event-store.js';
import { createSqliteSnapshotStore } from '../infra/event-store/sqlite-snapshot-store.js';
import { formatTable, percentile } from './bench-table.js';

const events = Number(process.env.BENCH_EVENTS ?? 100_000);
const commands = Number(process.env.BENCH_COMMANDS ?? 300);
const withoutCommands = Math.min(commands, 20);
const synchronous = process.env.SQLITE_SYNCHRONOUS === 'normal' ? 'normal' : 'full';
const by = { subject: 'bench', roles: [] };
const context = () => ({ correlationId: randomUUID(), causationId: randomUUID() });

/** Writes an account of `count` events (opened, then deposits of 1) in appends of 1,000. */
const writeAccount = async (store: EventStore, accountId: string, count: number, keyed: boolean) => {
  const { decider, eventVersion } = accountAggregate;
  let state: AccountState = decider.initialState;
  let revision = -1;
  let batch: EventData[] = [];
  for (let i = 0; i < count; i++) {
    const command: AccountCommand =
      i === 0
        ? { type: 'OpenAccount', accountId, owner: 'bench', currency: 'EUR', by }
        : { type: 'DepositMoney', accountId, amount: 1 };
    const decided = decider.decide(command, state);
    state = fold(decider, decided, state);
    for (const { type, data } of decided)
      batch.push({
        type,
        data,
        metadata: {
          eventId: randomUUID(),
          correlationId: 'bench',
          causationId: 'bench',
          ...(keyed && { idempotencyKey: `transfer:${randomUUID()}:deposit`, requestHash: 'h' }),
          occurredAt: new Date().toISOString(),
          schemaVersion: eventVersion?.(type) ?? 1,
        },
      });
    if (batch.length >= 1000 || i === count - 1) {
      const result = await store.append(`account-${accountId}`, batch, {
        expectedRevision: revision < 0 ? 'no_stream' : revision,
      });
      revision = result.nextRevision;
      batch = [];
    }
  }
};

type Scenario = { name: string; samples: number; run: (i: number) => Promise<unknown> };
type Row = { name: string; samples: number; p50: number; p99: number; mean: number };

/**
 * The scenarios in rounds, one command of each per round in a rotating order, so that each sees the
 * same machine: on a shared one the append's fsync alone varies several-fold from minute to minute.
 */
const measure = async (scenarios: readonly Scenario[]): Promise<Row[]> => {
  for (const { run } of scenarios) for (let i = 0; i < 3; i++) await run(-1 - i); // warm-up, not counted
  const latencies = scenarios.map((): number[] => []);
  const rounds = Math.max(...scenarios.map((scenario) => scenario.samples));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < scenarios.length; k++) {
      const at = (round + k) % scenarios.length;
      const scenario = scenarios[at] as Scenario;
      if (round >= scenario.samples) continue;
      const started = performance.now();
      await scenario.run(round);
      latencies[at]?.push(performance.now() - started);
    }
  }
  return scenarios.map(({ name, samples }, i) => {
    const sorted = (latencies[i] ?? []).sort((a, b) => a - b);
    const mean = sorted.reduce((sum, ms) => sum + ms, 0) / sorted.length;
    return { name, samples, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), mean };
  });
};

const dir = mkdtempSync(join(tmpdir(), 'eventfold-bench-snapshots-'));
try {
  const file = join(dir, 'events.sqlite');
  const eventStore = createSqliteEventStore({ file, synchronous });
  const snapshotStore = createSqliteSnapshotStore({ file });
  const cold = createCommandHandler({ eventStore, maxRetries: 3, stateCacheSize: 0 });
  const coldWithSnapshots = createCommandHandler({
    eventStore,
    maxRetries: 3,
    stateCacheSize: 0,
    snapshots: { store: snapshotStore, onError: (error) => console.error(error) },
  });
  const deposit = (handle: typeof cold, accountId: string, key?: string) =>
    handle(
      accountAggregate,
      accountId,
      { type: 'DepositMoney', accountId, amount: 1 },
      { ...context(), ...(key && { idempotency: { key, requestHash: 'h' } }) },
    );

  const started = performance.now();
  for (let i = -3; i < commands; i++) await writeAccount(eventStore, `fresh-${i}`, 1, false);
  await writeAccount(eventStore, 'long', events, false);
  await writeAccount(eventStore, 'keyed', events, true);
  console.log(
    `bench:snapshots — cold deposits (no state cache), SQLite synchronous=${synchronous}; wrote 2 accounts of ${events} events in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  console.log(`${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}\n`);

  // The first command on each long stream takes its first snapshot (a whole read): not counted.
  await deposit(coldWithSnapshots, 'long');
  await deposit(coldWithSnapshots, 'keyed', randomUUID());
  await new Promise((resolve) => setTimeout(resolve, 50));
  const rows = await measure([
    {
      name: 'fresh account (1 event)',
      samples: commands,
      run: (i) => deposit(coldWithSnapshots, `fresh-${i}`),
    },
    { name: `${events} events, no snapshots`, samples: withoutCommands, run: () => deposit(cold, 'long') },
    { name: `${events} events, snapshots`, samples: commands, run: () => deposit(coldWithSnapshots, 'long') },
    {
      name: `${events} keyed events, snapshots, new keys`,
      samples: commands,
      run: () => deposit(coldWithSnapshots, 'keyed', `transfer:${randomUUID()}:deposit`),
    },
  ]);

  const fresh = rows[0] as Row;
  console.log(
    formatTable(
      ['stream', 'commands', 'p50 ms', 'p99 ms', 'mean ms', 'p50 vs fresh'],
      rows.map((row) => [
        row.name,
        String(row.samples),
        row.p50.toFixed(2),
        row.p99.toFixed(2),
        row.mean.toFixed(2),
        `${(row.p50 / fresh.p50).toFixed(1)}×`,
      ]),
    ),
  );
  await snapshotStore.close();
  await eventStore.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
