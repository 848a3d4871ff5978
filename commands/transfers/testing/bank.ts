import { accountAggregate } from '../../../domain/accounts/account.js';
import type { Actor } from '../../../domain/shared/actor.js';
import { stateFrom, streamIdFor } from '../../../domain/shared/decider.js';
import { isSettled, type SettledTransfer, transferAggregate } from '../../../domain/transfers/transfer.js';
import type { EventStore, RecordedEvent } from '../../../infra/event-store/event-store.js';
import { createLogger } from '../../../infra/logger.js';
import { createCommandHandler } from '../../pipeline/handle-command.js';
import { createTransferOutcomes } from '../transfer-outcomes.js';

export const silent = createLogger({ level: 'silent' });

/** Who opens every account of the bank, and asks for its transfers unless a test says otherwise. */
export const bankOwner: Actor = { subject: 'bank-owner', roles: [] };
const owner = bankOwner;

/**
 * Accounts and transfers over a store, written and read through the real pipeline and deciders:
 * what the transfer tests set up and then check.
 */
export const bank = (eventStore: EventStore) => {
  const handle = createCommandHandler({ eventStore, maxRetries: 20, backoffMs: 1 });
  const outcomes = createTransferOutcomes({ eventStore, logger: silent, retryMs: 10 });
  const by = (correlationId: string) => ({ correlationId, causationId: correlationId });

  const accountEvents = (accountId: string) =>
    eventStore.readStream(streamIdFor(accountAggregate, accountId));
  const transferEvents = (transferId: string) =>
    eventStore.readStream(streamIdFor(transferAggregate, transferId));

  return {
    handle,
    outcomes,

    async open(accountId: string, balance: number, currency = 'EUR') {
      await handle(
        accountAggregate,
        accountId,
        { type: 'OpenAccount', accountId, owner: 'T', currency, by: owner },
        by('setup'),
      );
      if (balance > 0)
        await handle(
          accountAggregate,
          accountId,
          { type: 'DepositMoney', accountId, amount: balance },
          by('setup'),
        );
    },

    close: (accountId: string) =>
      handle(accountAggregate, accountId, { type: 'CloseAccount', accountId, by: owner }, by('setup')),

    request(
      transferId: string,
      fromAccountId: string,
      toAccountId: string,
      amount: number,
      {
        deadline = new Date(Date.now() + 60_000),
        correlationId = `corr-${transferId}`,
        as = owner,
      }: { deadline?: Date; correlationId?: string; as?: Actor } = {},
    ) {
      const command = {
        type: 'RequestTransfer' as const,
        transferId,
        fromAccountId,
        toAccountId,
        amount,
        deadline: deadline.toISOString(),
        by: as,
      };
      return handle(transferAggregate, transferId, command, { ...by(correlationId), actor: as.subject });
    },

    async balance(accountId: string): Promise<number | undefined> {
      const state = stateFrom(accountAggregate, await accountEvents(accountId));
      return state.status === 'none' ? undefined : state.balance;
    },

    async transfer(transferId: string) {
      return stateFrom(transferAggregate, await transferEvents(transferId));
    },

    accountEvents,
    transferEvents,

    /** The account events that carry `reference: transferId`, with the leg named by their key. */
    async legs(transferId: string, accountIds: readonly string[]) {
      const all = (await Promise.all(accountIds.map(accountEvents))).flat();
      return all
        .filter((e) => (e.data as { reference?: string }).reference === transferId)
        .map((e: RecordedEvent) => ({
          accountId: (e.data as { accountId: string }).accountId,
          type: e.type,
          amount: (e.data as { amount: number }).amount,
          leg: e.metadata.idempotencyKey?.split(':').at(-1),
        }));
    },

    /** Resolves with the transfer's final state, or throws after `timeoutMs`. */
    async settled(transferId: string, timeoutMs = 10_000): Promise<SettledTransfer> {
      const outcome = await outcomes.wait(transferId, { timeoutMs });
      const state = stateFrom(transferAggregate, await transferEvents(transferId));
      if (!outcome || !isSettled(state))
        throw new Error(`transfer ${transferId} did not settle within ${timeoutMs} ms`);
      return state;
    },
  };
};
