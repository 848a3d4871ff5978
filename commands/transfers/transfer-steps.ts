import { type AccountState, accountAggregate, accountDecider } from '../../domain/accounts/account.js';
import { stateFrom, streamIdFor } from '../../domain/shared/decider.js';
import { isDomainError } from '../../domain/shared/domain-error.js';
import {
  isSettled,
  type SettledTransfer,
  type Transfer,
  type TransferCommand,
  TransferFailureReason,
  type TransferState,
  transferAggregate,
} from '../../domain/transfers/transfer.js';
import type { EventStore, RecordedEvent } from '../../infra/event-store/event-store.js';
import type { Logger } from '../../infra/logger.js';
import type { CommandHandler, CommandResult } from '../pipeline/handle-command.js';
import { sha256 } from '../pipeline/idempotency.js';

/**
 * The transfer saga, one step at a time: read where the transfer stands, do the next thing, record
 * the outcome on the transfer stream, repeat until it is completed or failed.
 *
 * Every account leg runs with an idempotency key made of the transfer and the leg, so however
 * often a step is repeated (a redelivered event, a retry after an error, a restart in the middle)
 * each leg moves money at most once. And because each step starts from what the streams say now,
 * not from the event that woke it, a stale or repeated trigger only re-reads and finds nothing to do.
 *
 * The deadline and the in-flight step. The deadline is checked at the start of a step, never in
 * the middle of one: the process runs one step at a time per transfer (transfer-process.ts), so no
 * leg of this transfer is in flight while the deadline is judged. After the deadline, a leg whose
 * outcome was not recorded (the process died, or the append failed after it landed) is looked up
 * by its key in the account stream: a withdrawal that did land is recorded and refunded, a deposit
 * that did land completes the transfer (the money arrived; refunding as well would create money),
 * and only a leg that never landed is given up. Likewise a refund that landed unrecorded is
 * recorded, never followed by a deposit. That holds as long as one process drives
 * transfers at a time, which the deployment must ensure (one instance, or a lease).
 */
export const legKey = (transferId: string, leg: 'withdraw' | 'deposit' | 'refund'): string =>
  `transfer:${transferId}:${leg}`;

export type TransferStepsDeps = {
  eventStore: EventStore;
  handle: CommandHandler;
  logger: Logger;
  /** Milliseconds since the epoch; injected so tests can move past deadlines. */
  now: () => number;
};

/** A step ran this many times without settling the transfer: something else is writing to it. */
const MAX_STEPS = 10;

const hashOf = (command: unknown) => sha256(JSON.stringify(command));

const reasonFor = (code: string): TransferFailureReason => {
  const parsed = TransferFailureReason.safeParse(code);
  return parsed.success ? parsed.data : 'rejected';
};

type Trigger = { correlationId: string; causationId: string };

export const createTransferSteps = ({ eventStore, handle, logger, now }: TransferStepsDeps) => {
  const readAccount = async (accountId: string) => {
    const events = await eventStore.readStream(streamIdFor(accountAggregate, accountId));
    const state: AccountState = stateFrom(accountAggregate, events);
    return { events, state };
  };

  const findLeg = (events: readonly RecordedEvent[], key: string) =>
    events.find((e) => e.metadata.idempotencyKey === key);

  /** The event a command appended (or found, on a replay): its id is the cause of what follows. */
  const appended = async (result: CommandResult) => {
    const [event] = await eventStore.readStream(result.streamId, { fromRevision: result.revision });
    if (!event) throw new Error(`${result.streamId} has no revision ${result.revision}`);
    return event;
  };

  /**
   * Runs an account leg. Resolves with the event it appended, or with the account rule that
   * refused it; any other failure (the store, a conflict storm) throws and the step is retried.
   */
  const leg = async (
    transferId: string,
    name: 'withdraw' | 'deposit' | 'refund',
    command: { type: 'WithdrawMoney' | 'DepositMoney'; accountId: string; amount: number; currency?: string },
    trigger: Trigger,
  ): Promise<{ event: RecordedEvent } | { refused: string }> => {
    const full = { ...command, reference: transferId };
    try {
      const result = await handle(accountAggregate, command.accountId, full, {
        ...trigger,
        idempotency: { key: legKey(transferId, name), requestHash: hashOf(full) },
      });
      return { event: await appended(result) };
    } catch (error) {
      if (isDomainError(error)) return { refused: error.code };
      throw error;
    }
  };

  const record = (transferId: string, command: TransferCommand, trigger: Trigger) =>
    handle(transferAggregate, transferId, command, trigger);

  /** Does the next thing for a transfer that is not settled yet. */
  const step = async (
    state: Transfer,
    last: RecordedEvent,
    correlationId: string,
    log: Logger,
  ): Promise<void> => {
    const { transferId, fromAccountId, toAccountId, amount } = state;
    const cause = { correlationId, causationId: last.metadata.eventId };
    const causedBy = (event: RecordedEvent) => ({ correlationId, causationId: event.metadata.eventId });
    const expired = now() >= Date.parse(state.deadline);

    const compensate = async (reason: TransferFailureReason) => {
      const refund = await leg(
        transferId,
        'refund',
        { type: 'DepositMoney', accountId: fromAccountId, amount },
        cause,
      );
      if ('event' in refund) {
        await record(transferId, { type: 'CompensateTransfer', transferId, reason }, causedBy(refund.event));
        log.warn({ reason }, 'transfer failed; source refunded');
        return;
      }
      // The source was closed (or filled) meanwhile: the amount is stranded, and a person must decide.
      log.error(
        { reason, refundRefused: refund.refused, amount, fromAccountId },
        'transfer failed; refund refused',
      );
      await record(
        transferId,
        { type: 'FailTransfer', transferId, reason, refundRefused: refund.refused },
        cause,
      );
    };

    if (state.status === 'requested') {
      const source = await readAccount(fromAccountId);
      const withdrawn = findLeg(source.events, legKey(transferId, 'withdraw'));
      const currency = source.state.status === 'none' ? undefined : source.state.currency;
      if (withdrawn && currency) {
        await record(transferId, { type: 'RecordDebit', transferId, currency }, causedBy(withdrawn));
        return;
      }
      if (expired) {
        await record(transferId, { type: 'FailTransfer', transferId, reason: 'deadline_exceeded' }, cause);
        log.info({ reason: 'deadline_exceeded' }, 'transfer failed');
        return;
      }
      // A target that cannot take the money fails the transfer before the source is touched, so
      // the common refusals leave no withdrawal and refund in the source's history.
      const refusal = currency && (await depositRefusal(toAccountId, amount, currency));
      const outcome = refusal
        ? { refused: refusal }
        : await leg(
            transferId,
            'withdraw',
            { type: 'WithdrawMoney', accountId: fromAccountId, amount },
            cause,
          );
      if ('refused' in outcome) {
        const reason = reasonFor(outcome.refused);
        await record(transferId, { type: 'FailTransfer', transferId, reason }, cause);
        log.info({ reason }, 'transfer failed');
        return;
      }
      // Only a source that exists can be debited, so the currency is known here.
      await record(
        transferId,
        { type: 'RecordDebit', transferId, currency: currency as string },
        causedBy(outcome.event),
      );
      log.info('transfer debited');
      return;
    }

    // Debited. A refund on record means the deposit was given up on (refused, or the deadline
    // passed) and the process stopped before recording it: finish the compensation, and never try
    // the deposit again, or the money would arrive twice (back at the source and at the target).
    const source = await readAccount(fromAccountId);
    const refunded = findLeg(source.events, legKey(transferId, 'refund'));
    if (refunded) {
      // Why is lost with the record: the target's refusal if it still refuses, else the deadline.
      const refusal = await depositRefusal(toAccountId, amount, state.currency);
      const reason = refusal ? reasonFor(refusal) : expired ? 'deadline_exceeded' : 'rejected';
      await record(transferId, { type: 'CompensateTransfer', transferId, reason }, causedBy(refunded));
      log.warn({ reason }, 'transfer failed; source refunded (found the refund unrecorded)');
      return;
    }

    if (expired) {
      const target = await readAccount(toAccountId);
      const deposited = findLeg(target.events, legKey(transferId, 'deposit'));
      if (deposited) {
        await record(transferId, { type: 'CompleteTransfer', transferId }, causedBy(deposited));
        log.info('transfer completed (its deposit had landed before the deadline was judged)');
        return;
      }
      await compensate('deadline_exceeded');
      return;
    }
    const deposit = await leg(
      transferId,
      'deposit',
      { type: 'DepositMoney', accountId: toAccountId, amount, currency: state.currency },
      cause,
    );
    if ('event' in deposit) {
      await record(transferId, { type: 'CompleteTransfer', transferId }, causedBy(deposit.event));
      log.info('transfer completed');
      return;
    }
    await compensate(reasonFor(deposit.refused));
  };

  /** The account rule that would refuse this deposit right now, if any. */
  const depositRefusal = async (accountId: string, amount: number, currency: string | undefined) => {
    const { state } = await readAccount(accountId);
    try {
      accountDecider.decide({ type: 'DepositMoney', accountId, amount, currency }, state);
      return undefined;
    } catch (error) {
      if (isDomainError(error)) return error.code;
      throw error;
    }
  };

  /**
   * Drives one transfer until it is settled and returns its final state. `onState` hears each
   * state read (and the transfer's correlation id), so the caller knows the deadline even when a
   * step then fails. Throws when a step
   * fails for any reason but an account rule; calling again resumes where it stopped.
   */
  const advance = async (
    transferId: string,
    onState?: (state: TransferState, correlationId: string) => void,
  ): Promise<SettledTransfer | undefined> => {
    const streamId = streamIdFor(transferAggregate, transferId);
    for (let n = 0; n < MAX_STEPS; n++) {
      const events = await eventStore.readStream(streamId);
      const first = events[0];
      const last = events.at(-1);
      if (!first || !last) return undefined;
      const state = stateFrom(transferAggregate, events);
      const correlationId = first.metadata.correlationId;
      onState?.(state, correlationId);
      if (state.status === 'none') return undefined;
      if (isSettled(state)) return state;
      const log = logger.child({ correlationId, transferId, step: state.status });
      try {
        await step(state, last, correlationId, log);
      } catch (error) {
        // The transfer moved under us (another writer recorded a step first): read it again.
        if (!isDomainError(error)) throw error;
        log.warn({ err: error }, 'transfer step refused; reading the transfer again');
      }
    }
    throw new Error(`transfer ${transferId} did not settle in ${MAX_STEPS} steps`);
  };

  return { advance };
};

export type TransferSteps = ReturnType<typeof createTransferSteps>;
