import { accountAggregate } from '../../domain/accounts/account.js';
import { fold, stateFrom, streamIdFor } from '../../domain/shared/decider.js';
import { isDomainError } from '../../domain/shared/domain-error.js';
import {
  type TransferState,
  transferAggregate,
  transferDecider,
  transferEventTypes,
} from '../../domain/transfers/transfer.js';
import {
  type Leg,
  type TransferNext,
  type TransferObservation,
  type TransferProcessState,
  transferWorkflow,
} from '../../domain/transfers/transfer-workflow.js';
import type { EventStore } from '../../infra/event-store/event-store.js';
import type { Logger } from '../../infra/logger.js';
import type { CommandHandler } from '../pipeline/handle-command.js';
import type { ProcessManagerLease } from '../process-manager/lease.js';
import {
  type ProcessDefinition,
  type ProcessManager,
  type ProcessManagerConfig,
  startProcessManager,
} from '../process-manager/process-manager.js';
import { runWorkflow } from '../process-manager/run-workflow.js';
import { findStep, runStep, stepKey } from '../process-manager/step-keys.js';

export type TransferProcessConfig = ProcessManagerConfig;
export type TransferProcessLease = ProcessManagerLease;
export type TransferProcess = ProcessManager;

export type TransferProcessDeps = {
  eventStore: EventStore;
  handle: CommandHandler;
  logger: Logger;
  config?: Partial<TransferProcessConfig>;
  /** Names the checkpoint; two processes with one name must not run at once. */
  name?: string;
  /**
   * Waits for the lease before driving transfers, and stops when it is lost. Without it, the
   * deployment must run a single instance.
   */
  lease?: TransferProcessLease;
  now?: () => number;
};

/** The idempotency key of a transfer's account leg: `transfer:<id>:withdraw|deposit|refund`. */
/** Whom the transfer's commands act for: who asked for it (recorded as each event's actor). */
const actorOf = (transfer: TransferProcessState['transfer']) =>
  transfer.status === 'none' ? {} : { actor: transfer.requestedBy.subject };

export const legKey = (transferId: string, leg: Leg): string => stepKey('transfer', transferId, leg);

/** The stream a transfer lives in, for callers that look it up by id. */
export const transferStreamId = (transferId: string) => streamIdFor(transferAggregate, transferId);

const TRANSFER_PREFIX = `${transferAggregate.category}-`;

/** The account each leg's event lies in. */
const legAccount = { withdraw: 'source', refund: 'source', deposit: 'target' } as const;

/**
 * The transfer process: the transfer workflow (domain/transfers/transfer-workflow.ts, the
 * decisions) on the process-manager engine (commands/process-manager/). This file is the glue:
 * what wakes it (transfer events, keyed by transfer id), what it reads before each decision (the
 * transfer's stream, both accounts, the legs found there by their step keys), and how it carries
 * a decision out (an account leg under its step key, or a command on the transfer's stream, each
 * with the transfer's correlation id and the event that caused it).
 */
export const transferProcess = ({
  eventStore,
  handle,
  logger,
  now,
  name = 'transfer-process',
}: {
  eventStore: EventStore;
  handle: CommandHandler;
  logger: Logger;
  now: () => number;
  name?: string;
}): ProcessDefinition => ({
  name,
  filter: { streamPrefixes: [TRANSFER_PREFIX], eventTypes: transferEventTypes },
  keyOf: (event) => event.streamId.slice(TRANSFER_PREFIX.length),

  async advance(transferId, context) {
    // Per pass: the ids that caused what follows, and the transfer's correlation id.
    let correlationId = '';
    let lastEventId = '';
    let legEventIds: Partial<Record<Leg, string>> = {};
    let log = logger;

    const observe = async (): Promise<TransferObservation[]> => {
      const events = await eventStore.readStream(transferStreamId(transferId));
      const first = events[0];
      const last = events.at(-1);
      if (!first || !last) return [];
      correlationId = first.metadata.correlationId;
      lastEventId = last.metadata.eventId;
      legEventIds = {};
      context.setLogFields({ correlationId, transferId });
      const own = events.map((e) => transferAggregate.parseEvent(e));
      const transfer = fold(transferDecider, own);
      const observations: TransferObservation[] = [...own];
      // A failed transfer is looked at once more for a withdrawal that landed after it failed.
      const finished =
        transfer.status === 'none' ||
        transfer.status === 'completed' ||
        (transfer.status === 'failed' && (transfer.compensated || transfer.refundRefused !== undefined));
      if (finished) return observations;
      const accounts = {
        source: await eventStore.readStream(streamIdFor(accountAggregate, transfer.fromAccountId)),
        target: await eventStore.readStream(streamIdFor(accountAggregate, transfer.toAccountId)),
      };
      observations.push({
        type: 'AccountsRead',
        source: stateFrom(accountAggregate, accounts.source),
        target: stateFrom(accountAggregate, accounts.target),
      });
      for (const leg of ['withdraw', 'deposit', 'refund'] as const) {
        const found = findStep(accounts[legAccount[leg]], legKey(transferId, leg));
        if (!found) continue;
        legEventIds[leg] = found.metadata.eventId;
        observations.push({ type: 'LegFound', leg });
      }
      return observations;
    };

    const act = async (
      next: TransferNext,
      { transfer }: TransferProcessState,
    ): Promise<TransferObservation[] | undefined> => {
      if (next.type === 'RunLeg') {
        const outcome = await runStep(
          { handle, eventStore },
          accountAggregate,
          next.command.accountId,
          next.command,
          {
            key: legKey(transferId, next.leg),
            correlationId,
            causationId: lastEventId,
            ...actorOf(transfer),
          },
        );
        if ('refused' in outcome) return [{ type: 'LegRan', leg: next.leg, refused: outcome.refused }];
        legEventIds[next.leg] = outcome.event.metadata.eventId;
        return [{ type: 'LegRan', leg: next.leg }];
      }
      const causationId = (next.causedBy && legEventIds[next.causedBy]) ?? lastEventId;
      try {
        await handle(transferAggregate, transferId, next.command, {
          correlationId,
          causationId,
          ...actorOf(transfer),
        });
        logRecorded(log, next, transfer);
      } catch (error) {
        // The transfer moved under us (another writer recorded a step first): read it again.
        if (!isDomainError(error)) throw error;
        log.warn({ err: error }, 'transfer step refused; reading the transfer again');
      }
      return undefined;
    };

    await runWorkflow(
      transferWorkflow,
      {
        observe,
        act,
        onState: ({ transfer }) => {
          if (transfer.status === 'none') return;
          context.setDeadline(Date.parse(transfer.deadline));
          log = logger.child({ correlationId, transferId, step: transfer.status });
        },
      },
      { now, what: `transfer ${transferId}` },
    );
  },
});

const logRecorded = (
  log: Logger,
  { command }: TransferNext & { type: 'Record' },
  transfer: TransferState,
) => {
  switch (command.type) {
    case 'RecordDebit':
      return log.info('transfer debited');
    case 'CompleteTransfer':
      return log.info('transfer completed');
    case 'CompensateTransfer':
      return log.warn({ reason: command.reason }, 'transfer failed; source refunded');
    case 'FailTransfer':
      if (command.refundRefused === undefined) return log.info({ reason: command.reason }, 'transfer failed');
      return log.error(
        {
          reason: command.reason,
          refundRefused: command.refundRefused,
          ...(transfer.status !== 'none' && {
            amount: transfer.amount,
            fromAccountId: transfer.fromAccountId,
          }),
        },
        'transfer failed; refund refused',
      );
    case 'RequestTransfer':
      return;
  }
};

/**
 * Starts the transfer process manager (see transferProcess). Transfers run concurrently, each one
 * step at a time; a step that fails is retried with backoff, never later than the transfer's
 * deadline, so a transfer whose legs keep failing is still failed (and refunded) on time.
 */
export const startTransferProcess = (deps: TransferProcessDeps): TransferProcess => {
  const now = deps.now ?? Date.now;
  return startProcessManager(
    transferProcess({
      eventStore: deps.eventStore,
      handle: deps.handle,
      logger: deps.logger.child({ component: deps.name ?? 'transfer-process' }),
      now,
      ...(deps.name !== undefined && { name: deps.name }),
    }),
    {
      eventStore: deps.eventStore,
      logger: deps.logger,
      ...(deps.config && { config: deps.config }),
      ...(deps.lease && { lease: deps.lease }),
      now,
    },
  );
};
