import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { accountAggregate } from '../domain/accounts/account.js';
import { stateFrom } from '../domain/shared/decider.js';
import { transferAggregate } from '../domain/transfers/transfer.js';
import { createSqliteEventStore } from '../infra/event-store/sqlite-event-store.js';

/**
 * npm run seed, as an operator runs it, on a fresh DATA_DIR: the accounts and transfers it asks
 * for, every transfer settled by the saga, money conserved, and every event saying who acted.
 */
const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'eventfold-seed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const seed = (...args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/seed.ts', ...args], {
    cwd: root,
    env: { ...process.env, DATA_DIR: dir },
  });

describe('npm run seed', () => {
  it('fills a fresh store through the pipeline and settles every transfer, conserving money', async () => {
    const { stdout } = await seed('--accounts', '12', '--transfers', '40', '--seed', '3');
    expect(stdout).toMatch(/^seeded 12 accounts and 40 transfers \((\d+) completed, (\d+) failed/);

    const store = createSqliteEventStore({ file: join(dir, 'events.sqlite') });
    try {
      const events = await store.readAll();
      const accounts = [
        ...new Set(events.filter((e) => e.streamId.startsWith('account-')).map((e) => e.streamId)),
      ];
      expect(accounts).toHaveLength(12);
      const deposited = events
        .filter((e) => e.type === 'MoneyDeposited' && (e.data as { reference?: string }).reference === 'seed')
        .reduce((sum, e) => sum + (e.data as { amount: number }).amount, 0);
      let total = 0;
      for (const streamId of accounts) {
        const state = stateFrom(accountAggregate, await store.readStream(streamId));
        if (state.status !== 'none') total += state.balance;
      }
      expect(total).toBe(deposited);

      const transfers = [
        ...new Set(events.filter((e) => e.streamId.startsWith('transfer-')).map((e) => e.streamId)),
      ];
      expect(transfers).toHaveLength(40);
      for (const streamId of transfers)
        expect(['completed', 'failed']).toContain(
          stateFrom(transferAggregate, await store.readStream(streamId)).status,
        );
      // Who acted, on every event a command appended (the saga's checkpoint is the process's own).
      for (const event of events.filter(
        (e) => !e.streamId.startsWith('$') && !e.streamId.includes('checkpoint'),
      ))
        expect(event.metadata.actor, `${event.streamId} ${event.type}`).toMatch(/^user-\d{4}$/);
    } finally {
      await store.close();
    }

    // Again on the same store: the accounts are kept as they are, only transfers are added.
    const { stdout: again } = await seed('--accounts', '12', '--transfers', '5', '--seed', '3');
    expect(again).toMatch(/^seeded 12 accounts and 5 transfers .*12 commands refused/);
  }, 60_000);

  it('refuses bad arguments with its usage', async () => {
    await expect(seed('--accounts', 'lots')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^usage: npm run seed/),
    });
  });
});
