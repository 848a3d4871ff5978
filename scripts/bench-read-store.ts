/**
 * npm run bench:read-store [-- --documents N --accounts A --queries Q --reference-queries R]
 *
 * The embedded read store, old and new in one run, at N account transactions (default 1,000,000)
 * written as the account-transactions projection writes them (its own handler's guarded upserts,
 * 1,000 events per bulkWrite, each batch followed by its checkpoint):
 * - fill: store writes per second (what a catch-up pays the store, without reading the log);
 * - GET /accounts/:id/transactions?limit=50's query (account-read-model.ts's listTransactions)
 *   over random accounts: p50 and p99;
 * - restart until the last write is readable: open DATA_DIR/read-models.sqlite as the app does
 *   (its checks against the log included), read the checkpoint, then the page holding the last
 *   transaction written. Median of 5. The old store's reference is its fill: at start it had to
 *   project the whole log again, and this is only the store's part of that (a lower bound).
 * The old store (scripts/bench-read-store-scan.ts: a Map, mingo over every document) is measured
 * with fewer queries (R, default 20), each being a scan.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { accountAggregate } from '../domain/accounts/account.js';
import { streamIdFor } from '../domain/shared/decider.js';
import type { EventStore, RecordedEvent } from '../infra/event-store/event-store.js';
import { createLogger } from '../infra/logger.js';
import { createEmbeddedReadStore } from '../infra/read-store/embedded-read-store.js';
import { openReadModelsFile, READ_MODELS_FILE } from '../infra/read-store/read-models-file.js';
import type { ReadStore } from '../infra/read-store/read-store.js';
import { accountTransactionsProjection } from '../projections/accounts/account-transactions-projection.js';
import { checkpointStore } from '../projections/engine/checkpoint-store.js';
import { ensureIndexes } from '../projections/engine/collections.js';
import { accountReadModel } from '../read-api/accounts/account-read-model.js';
import { createScanReadStore } from './bench-read-store-scan.js';
import { reportFigures } from './bench-results.js';
import { formatTable, median, percentile } from './bench-table.js';

const { values: args } = parseArgs({
  options: {
    documents: { type: 'string', default: '1000000' },
    accounts: { type: 'string', default: '10000' },
    queries: { type: 'string', default: '500' },
    'reference-queries': { type: 'string', default: '20' },
  },
});
const documents = Number(args.documents);
const accounts = Number(args.accounts);
const queries = Number(args.queries);
const referenceQueries = Number(args['reference-queries']);
const BATCH = 1000;

const projection = accountTransactionsProjection();
const accountOf = (i: number) => `bench-${i % accounts}`;
/** Event i of the log: a deposit on account i mod A, at that account's next revision (0 is its opening). */
const deposit = (i: number): RecordedEvent => {
  const accountId = accountOf(i);
  return {
    streamId: streamIdFor(accountAggregate, accountId),
    revision: Math.floor(i / accounts) + 1,
    position: BigInt(i + 1),
    type: 'MoneyDeposited',
    data: { accountId, amount: 10, balanceAfter: 10 * (Math.floor(i / accounts) + 1), reference: `r-${i}` },
    metadata: {
      eventId: `e-${i}`,
      correlationId: 'bench',
      causationId: 'bench',
      occurredAt: '2024-01-01T00:00:00.000Z',
      schemaVersion: 1,
    },
  };
};

const fill = async (store: ReadStore) => {
  await ensureIndexes(store, projection);
  const checkpoints = checkpointStore(store);
  const collection = store.collection(projection.collections[0]?.name as string);
  const started = performance.now();
  for (let from = 0; from < documents; from += BATCH) {
    const ops = [];
    for (let i = from; i < Math.min(documents, from + BATCH); i++)
      ops.push(...(Object.values(projection.handle(deposit(i)))[0] ?? []));
    await collection.bulkWrite(ops);
    await checkpoints.write(projection.name, BigInt(Math.min(documents, from + BATCH)), 1, new Date());
  }
  return (performance.now() - started) / 1000;
};

/** A seeded generator, so both stores are asked about the same accounts. */
const randomAccounts = (count: number) => {
  let seed = 42;
  return Array.from({ length: count }, () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return accountOf(seed % accounts);
  });
};

const timeQueries = async (store: ReadStore, count: number) => {
  const model = accountReadModel(store);
  const times: number[] = [];
  for (const accountId of randomAccounts(count)) {
    const started = performance.now();
    const page = await model.listTransactions({ accountId, limit: 50 });
    times.push(performance.now() - started);
    if (page.length === 0) throw new Error(`no transactions for ${accountId}: the fill went wrong`);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
};

const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(0)} ms`;
const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;

const run = async () => {
  console.log(
    `bench:read-store: ${documents.toLocaleString('en')} transactions over ${accounts.toLocaleString('en')} accounts\n`,
  );

  // The old store, in memory.
  const heapBefore = process.memoryUsage().heapUsed;
  const scan = createScanReadStore();
  const scanFill = await fill(scan);
  const scanHeap = process.memoryUsage().heapUsed - heapBefore;
  const scanQuery = await timeQueries(scan, referenceQueries);
  await scan.close();
  console.log(`old (in memory, scans): filled in ${scanFill.toFixed(1)} s, query p50 ${ms(scanQuery.p50)}`);

  // The new store, in a file under a DATA_DIR of its own.
  const dataDir = mkdtempSync(join(tmpdir(), 'eventfold-bench-read-store-'));
  try {
    const file = join(dataDir, READ_MODELS_FILE);
    const created = createEmbeddedReadStore({ file });
    const sqliteFill = await fill(created);
    await created.close();
    console.log(`new (SQLite, indexed): filled in ${sqliteFill.toFixed(1)} s`);

    // The log the models were built from, as the app's start checks see it: N events.
    const log = {
      headPosition: async () => BigInt(documents),
      readAll: async () => [deposit(0)],
    } as unknown as EventStore;
    const last = documents - 1;
    const restarts: number[] = [];
    let store: ReadStore | undefined;
    for (let i = 0; i < 5; i++) {
      await store?.close();
      const started = performance.now();
      store = await openReadModelsFile({
        dataDir,
        eventStore: log,
        checkpoints: async (opened) => [await checkpointStore(opened).read(projection.name)],
        log: createLogger({ level: 'warn' }),
      });
      const checkpoint = await checkpointStore(store).read(projection.name);
      const page = await accountReadModel(store).listTransactions({
        accountId: accountOf(last),
        after: deposit(last).revision - 1,
        limit: 50,
      });
      restarts.push(performance.now() - started);
      if (checkpoint !== BigInt(documents) || page[0]?._id !== `${accountOf(last)}:${deposit(last).revision}`)
        throw new Error('the last write is not readable after the restart');
    }
    const sqliteQuery = await timeQueries(store as ReadStore, queries);
    await store?.close();
    const size = ['', '-wal'].reduce((sum, suffix) => {
      try {
        return sum + statSync(`${file}${suffix}`).size;
      } catch {
        return sum;
      }
    }, 0);

    console.log(
      `\n${formatTable(
        ['figure', 'new: SQLite, indexed', 'old: in memory, scans', 'goal'],
        [
          [
            'restart until the last write is readable',
            ms(median(restarts)),
            `≥ ${scanFill.toFixed(1)} s (a rebuild)`,
            '≤ 5 s at 1M',
          ],
          ['transactions?limit=50 query, p50', ms(sqliteQuery.p50), ms(scanQuery.p50), '≤ 5 ms at 1M'],
          ['transactions?limit=50 query, p99', ms(sqliteQuery.p99), ms(scanQuery.p99), ''],
          [
            'store writes, documents/s (1,000 per bulkWrite)',
            Math.round(documents / sqliteFill).toLocaleString('en'),
            Math.round(documents / scanFill).toLocaleString('en'),
            '',
          ],
          ['space', `${mb(size)} on disk`, `${mb(scanHeap)} of heap`, ''],
        ],
      )}`,
    );
    reportFigures([
      {
        figure: `transactions?limit=50 from the embedded read store, p50, ${documents.toLocaleString('en')} transactions`,
        value: ms(sqliteQuery.p50),
        reference: `the old in-memory store's scan: ${ms(scanQuery.p50)}`,
        goal: '≤ 5 ms at 1M',
      },
    ]);
    console.log(
      `\nqueries: ${queries} on the new store, ${referenceQueries} on the old; restart: median of ${restarts.length} (${restarts.map((t) => t.toFixed(0)).join(', ')} ms), OS page cache warm`,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
};

await run();
