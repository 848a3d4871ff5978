import { describe, expect, it, vi } from 'vitest';
import { type AccountCommand, accountAggregate } from '../../domain/accounts/account.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { createMemorySnapshotStore } from '../../infra/event-store/memory-snapshot-store.js';
import { createCommandHandler } from '../pipeline/handle-command.js';
import { countingReads } from '../pipeline/testing/counting-store.js';

/**
 * The example's opt-in: an account is snapshotted every 100 events, and its state survives the
 * snapshot's JSON and AccountStateSchema exactly (else the pipeline would not store it).
 */
describe('account snapshots', () => {
  it('a cold command on an account of 151 events reads its snapshot and the events after it', async () => {
    const eventStore = createMemoryEventStore();
    const snapshots = createMemorySnapshotStore();
    const onError = vi.fn();
    const handle = createCommandHandler({
      eventStore,
      maxRetries: 3,
      snapshots: { store: snapshots, onError },
    });
    const context = { correlationId: 'c', causationId: 'c' };
    const by = { subject: 'ada', roles: [] };
    const run = (command: AccountCommand) => handle(accountAggregate, 'a-1', command, context);
    await run({ type: 'OpenAccount', accountId: 'a-1', owner: 'Ada', currency: 'EUR', by });
    for (let i = 0; i < 150; i++) await run({ type: 'DepositMoney', accountId: 'a-1', amount: 2 });
    await vi.waitFor(async () => expect((await snapshots.load('account-a-1'))?.revision).toBe(99));
    expect(onError).not.toHaveBeenCalled();

    const counted = countingReads(eventStore);
    const cold = createCommandHandler({
      eventStore: counted.store,
      maxRetries: 3,
      stateCacheSize: 0,
      snapshots: { store: snapshots },
    });
    // 300 in the account: 301 is refused on the snapshot's state and the 51 events after it.
    await expect(
      cold(accountAggregate, 'a-1', { type: 'WithdrawMoney', accountId: 'a-1', amount: 301, by }, context),
    ).rejects.toMatchObject({ code: 'insufficient_funds' });
    expect(counted.take()).toEqual([{ streamId: 'account-a-1', fromRevision: 99, events: 52 }]);
  });
});
