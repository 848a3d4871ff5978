/**
 * npm run seed -- [--accounts 100] [--transfers 500] [--seed 42]
 *
 * Fills a store through the command pipeline, for demos and for trying the dashboards: opens
 * `--accounts` accounts (acc-0001…, each owned by its own subject user-0001…), deposits into each,
 * then asks for `--transfers` transfers between random accounts, each by the source's owner (one in
 * twenty by someone else, which the saga refuses: not_account_owner), and runs the transfer saga
 * until every one has settled. The same decisions, events and metadata as requests through the API
 * would make; no HTTP. `--seed` makes the amounts and pairs repeatable.
 *
 * On the embedded default it takes DATA_DIR for itself, as the app does: stop the app first (it
 * refuses otherwise, naming the process that holds the folder). With EVENTSTORE_URL it writes to
 * EventStoreDB, beside a running app (whose saga then shares the work: both are safe together).
 * Accounts that exist already are left as they are.
 *
 * Exit codes: 0 seeded; 1 a transfer did not settle in time, or the store failed; 2 bad arguments.
 */
import { randomUUID } from 'node:crypto';
import { loadAppConfigOrExit } from '../app/config.js';
import { modules } from '../app/modules.js';
import { createCommandHandler } from '../commands/pipeline/handle-command.js';
import { transferProcessManager } from '../commands/transfers/index.js';
import { createTransferOutcomes } from '../commands/transfers/transfer-outcomes.js';
import { accountAggregate } from '../domain/accounts/account.js';
import type { Actor } from '../domain/shared/actor.js';
import { isDomainError } from '../domain/shared/domain-error.js';
import { transferAggregate } from '../domain/transfers/transfer.js';
import { createEventStore } from '../infra/event-store/create-event-store.js';
import { createLogger } from '../infra/logger.js';

const usage = 'usage: npm run seed -- [--accounts N (1-100000)] [--transfers N (0-1000000)] [--seed N]';

const parseArgs = (argv: readonly string[]) => {
  const options = { accounts: 100, transfers: 500, seed: Date.now() % 2 ** 31 };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    const number = Number(value);
    if (value === undefined || !Number.isInteger(number) || number < 0) return undefined;
    if (name === '--accounts' && number >= 1 && number <= 100_000) options.accounts = number;
    else if (name === '--transfers' && number <= 1_000_000) options.transfers = number;
    else if (name === '--seed') options.seed = number;
    else return undefined;
  }
  return options;
};

/** mulberry32: a small seedable generator, so that --seed repeats the same amounts and pairs. */
const random = (seed: number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** Runs `work` for every item, at most `limit` at a time. */
const inParallel = async <T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) => {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
};

const options = parseArgs(process.argv.slice(2));
if (!options) {
  console.error(usage);
  process.exit(2);
}
const config = loadAppConfigOrExit(2, process.env, modules);
const logger = createLogger({ level: 'warn', format: 'json' });
const eventStore = await createEventStore(config, { exclusive: true, log: logger });
const handle = createCommandHandler({ eventStore, maxRetries: config.COMMAND_MAX_RETRIES });
const next = random(options.seed);
const run = randomUUID().slice(0, 8);
const pad = (i: number) => String(i + 1).padStart(4, '0');
const accountIds = Array.from({ length: options.accounts }, (_, i) => `acc-${pad(i)}`);
const ownerOf = (accountId: string): Actor => ({ subject: `user-${accountId.slice(4)}`, roles: [] });
/** Each command as its own request would be: a correlation id, and who asked. */
const request = (i: number, actor: Actor) => {
  const id = `seed-${run}-${i}`;
  return { correlationId: id, causationId: id, actor: actor.subject };
};

let refused = 0;
/** True when the command was decided; false when a rule refused it (counted). */
const tolerate = async (command: Promise<unknown>) => {
  try {
    await command;
    return true;
  } catch (error) {
    if (!isDomainError(error)) throw error;
    refused++;
    return false;
  }
};

// Drawn before anything runs in parallel, so that --seed repeats the same run.
const amounts = accountIds.map(() => 10_000 + Math.floor(next() * 990_000));
const started = Date.now();
try {
  await inParallel([...accountIds.keys()], 16, async (i) => {
    const accountId = accountIds[i] as string;
    const by = ownerOf(accountId);
    const context = request(i, by);
    const opened = await tolerate(
      handle(
        accountAggregate,
        accountId,
        {
          type: 'OpenAccount',
          accountId,
          owner: `Customer ${pad(i)}`,
          currency: 'EUR',
          by,
        },
        context,
      ),
    );
    const amount = amounts[i] as number;
    if (!opened) return;
    await tolerate(
      handle(
        accountAggregate,
        accountId,
        { type: 'DepositMoney', accountId, amount, reference: 'seed' },
        context,
      ),
    );
  });

  const transfers = Array.from({ length: accountIds.length < 2 ? 0 : options.transfers }, (_, i) => {
    const from = accountIds[Math.floor(next() * accountIds.length)] as string;
    let to = accountIds[Math.floor(next() * accountIds.length)] as string;
    if (to === from) to = accountIds[(accountIds.indexOf(from) + 1) % accountIds.length] as string;
    const by = next() < 0.05 ? ownerOf(to) : ownerOf(from);
    return { transferId: `tr-${run}-${i + 1}`, from, to, amount: 100 + Math.floor(next() * 50_000), by };
  });

  const outcomes = createTransferOutcomes({ eventStore, logger });
  const saga = transferProcessManager.start({ eventStore, handle, logger }, config);
  const settled = { completed: 0, failed: 0 };
  try {
    await inParallel([...transfers.keys()], 16, async (i) => {
      const t = transfers[i] as (typeof transfers)[number];
      const command = {
        type: 'RequestTransfer' as const,
        transferId: t.transferId,
        fromAccountId: t.from,
        toAccountId: t.to,
        amount: t.amount,
        deadline: new Date(Date.now() + 60_000).toISOString(),
        by: t.by,
      };
      await handle(transferAggregate, t.transferId, command, request(options.accounts + i, t.by));
    });
    for (const t of transfers) {
      const outcome = await outcomes.wait(t.transferId, { timeoutMs: 120_000 });
      if (!outcome) throw new Error(`transfer ${t.transferId} did not settle within 120 s`);
      settled[outcome.type === 'TransferCompleted' ? 'completed' : 'failed']++;
    }
  } finally {
    outcomes.stop();
    await saga.stop();
  }
  console.log(
    `seeded ${accountIds.length} accounts and ${transfers.length} transfers ` +
      `(${settled.completed} completed, ${settled.failed} failed; ${refused} commands refused, e.g. accounts that existed) ` +
      `in ${((Date.now() - started) / 1000).toFixed(1)} s; --seed ${options.seed}`,
  );
} catch (error) {
  console.error(`seed failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await eventStore.close();
}
