import { z } from 'zod';
import { AccountId } from '../accounts/account.js';
import { Actor } from '../shared/actor.js';
import type { Aggregate, Decider } from '../shared/decider.js';
import { DomainError, type DomainErrorKind } from '../shared/domain-error.js';
import { eventVersions } from '../shared/event-versions.js';
import { Amount, Currency } from '../shared/money.js';

/**
 * A transfer moves money between two accounts in steps, each its own transaction: withdraw from the
 * source, deposit to the target. This stream records how far it got; the transfer process
 * (commands/transfers/) drives the steps and records each outcome here.
 *
 *   requested ─► debited ─► deposit chosen ─► completed
 *       │           │             └─► (refused) refund chosen ─► compensated + failed
 *       │           └─► refund chosen (deadline) ─► compensated + failed
 *       └─► failed  (─► refund chosen ─► compensated, for a withdrawal that landed late)
 *
 * After the debit, which of the two legs moves the money (a deposit to the target, or a refund to
 * the source) is chosen here, in this stream, before it runs: two processes working on one
 * transfer at once (a lease both believe they hold, two processes on one DATA_DIR) cannot both
 * choose, because the second choice is decided again on the first (optimistic concurrency) and
 * refused. The choice moves from deposit to refund only with the account rule that refused the
 * deposit. So the money arrives at most once, at one end.
 *
 * "failed" is recorded once no money is away from home: before the withdrawal, or in the same
 * append as the refund. A withdrawal that lands after a failure (another process ran it on an
 * older view, when the source could not yet pay) is refunded afterwards. A refund the source
 * refuses (closed meanwhile) is recorded on the failure so that the stranded amount is visible.
 */
export const TransferId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'transferId must be 1-64 letters, digits, "-" or "_"');
const Deadline = z.iso.datetime({ offset: true });

/**
 * Why a transfer failed: the code of the account rule that refused a step, or the deadline.
 * `rejected` stands for a refusal this list does not know yet, so a new account rule cannot wedge
 * a transfer.
 */
export const TransferFailureReason = z.enum([
  'insufficient_funds',
  'account_closed',
  'account_not_found',
  'currency_mismatch',
  'balance_limit_exceeded',
  'not_account_owner',
  'deadline_exceeded',
  'rejected',
]);
export type TransferFailureReason = z.infer<typeof TransferFailureReason>;
/** The code of the account rule that refused a refund. */
const RefusalCode = z.string().regex(/^[a-z_]{1,64}$/);

// ── Commands ────────────────────────────────────────────────────────────────
export const RequestTransfer = z.object({
  type: z.literal('RequestTransfer'),
  transferId: TransferId,
  fromAccountId: AccountId,
  toAccountId: AccountId,
  amount: Amount,
  /** After this instant the transfer process stops trying and fails it (refunding if needed). */
  deadline: Deadline,
  /** Who asks: the withdrawal is made on their behalf, so only the source's owner (or an admin) succeeds. */
  by: Actor,
});
/** The leg that moves the money after the debit; `depositRefused` when it moves from deposit to refund. */
export const SettlementLeg = z.enum(['deposit', 'refund']);
export const ChooseLeg = z.object({
  type: z.literal('ChooseLeg'),
  transferId: TransferId,
  leg: SettlementLeg,
  depositRefused: RefusalCode.optional(),
});
export const RecordDebit = z.object({
  type: z.literal('RecordDebit'),
  transferId: TransferId,
  /** The source account's currency: the deposit must be in the same one. */
  currency: Currency,
});
export const CompleteTransfer = z.object({ type: z.literal('CompleteTransfer'), transferId: TransferId });
export const CompensateTransfer = z.object({
  type: z.literal('CompensateTransfer'),
  transferId: TransferId,
  reason: TransferFailureReason,
});
export const FailTransfer = z.object({
  type: z.literal('FailTransfer'),
  transferId: TransferId,
  reason: TransferFailureReason,
  /** Only after a debit: the refund was refused by this account rule, so nothing can be compensated. */
  refundRefused: RefusalCode.optional(),
});
export const TransferCommand = z.discriminatedUnion('type', [
  RequestTransfer,
  RecordDebit,
  ChooseLeg,
  CompleteTransfer,
  CompensateTransfer,
  FailTransfer,
]);
export type TransferCommand = z.infer<typeof TransferCommand>;

// ── Events ──────────────────────────────────────────────────────────────────
export const TransferRequested = z.object({
  type: z.literal('TransferRequested'),
  data: z.object({
    transferId: TransferId,
    fromAccountId: AccountId,
    toAccountId: AccountId,
    amount: Amount,
    deadline: Deadline,
    requestedBy: Actor,
  }),
});
export const TransferDebited = z.object({
  type: z.literal('TransferDebited'),
  data: z.object({ transferId: TransferId, fromAccountId: AccountId, amount: Amount, currency: Currency }),
});
export const TransferLegChosen = z.object({
  type: z.literal('TransferLegChosen'),
  data: z.object({ transferId: TransferId, leg: SettlementLeg, depositRefused: RefusalCode.optional() }),
});
export const TransferCompleted = z.object({
  type: z.literal('TransferCompleted'),
  data: z.object({ transferId: TransferId, toAccountId: AccountId, amount: Amount }),
});
export const TransferCompensated = z.object({
  type: z.literal('TransferCompensated'),
  data: z.object({ transferId: TransferId, fromAccountId: AccountId, amount: Amount }),
});
export const TransferFailed = z.object({
  type: z.literal('TransferFailed'),
  data: z.object({
    transferId: TransferId,
    reason: TransferFailureReason,
    refundRefused: RefusalCode.optional(),
  }),
});
export const TransferEvent = z.discriminatedUnion('type', [
  TransferRequested,
  TransferDebited,
  TransferLegChosen,
  TransferCompleted,
  TransferCompensated,
  TransferFailed,
]);
export type TransferEvent = z.infer<typeof TransferEvent>;
export const transferEventTypes = TransferEvent.options.map((o) => o.shape.type.value);
/** How transfer events are read back and written: every type still at version 1. */
export const transferEvents = eventVersions(TransferEvent, []);
/** The events after which nothing more happens to a transfer. */
export const transferOutcomeTypes = ['TransferCompleted', 'TransferFailed'] as const;

// ── State ───────────────────────────────────────────────────────────────────
export type TransferStatus = 'requested' | 'debited' | 'completed' | 'failed';
export type Transfer = {
  status: TransferStatus;
  transferId: string;
  fromAccountId: string;
  toAccountId: string;
  amount: number;
  deadline: string;
  /** Who asked; the withdrawal acts for them, and only they (or an admin) may read the transfer. */
  requestedBy: Actor;
  /** Known once the source is debited. */
  currency?: string;
  /** The leg chosen to move the money after the debit. */
  leg?: z.infer<typeof SettlementLeg>;
  /** The account rule that refused the deposit, when the choice moved to the refund. */
  depositRefused?: string;
  /** The account rule that refused the refund: the amount is stranded. */
  refundRefused?: string;
  /** The source got its money back. */
  compensated: boolean;
  reason?: TransferFailureReason;
};
export type TransferState = { status: 'none' } | Transfer;
/** A transfer nothing more will happen to. */
export type SettledTransfer = Transfer & { status: 'completed' | 'failed' };
export const isSettled = (state: TransferState): state is SettledTransfer =>
  state.status === 'completed' || state.status === 'failed';

export type TransferErrorCode =
  | 'same_account'
  | 'transfer_already_exists'
  | 'transfer_not_found'
  | 'transfer_not_debited'
  | 'transfer_finished'
  | 'refund_required'
  | 'other_leg_chosen'
  | 'leg_not_chosen';

const reject = (code: TransferErrorCode, message: string, kind: DomainErrorKind = 'rejected') =>
  new DomainError(code, kind, message);

const requireExisting = (state: TransferState) => {
  if (state.status === 'none') throw reject('transfer_not_found', 'transfer does not exist', 'not_found');
  return state;
};

const finished = (status: TransferStatus) =>
  reject('transfer_finished', `transfer is already ${status}`, 'conflict');

// A step recorded twice decides nothing the second time: the transfer process delivers at least
// once, and a repeat must be harmless.
export const decide = (command: TransferCommand, state: TransferState): TransferEvent[] => {
  switch (command.type) {
    case 'RequestTransfer': {
      if (state.status !== 'none')
        throw reject('transfer_already_exists', 'transfer already exists', 'conflict');
      if (command.fromAccountId === command.toAccountId)
        throw reject('same_account', 'a transfer needs two different accounts');
      const { type: _, by, ...rest } = command;
      return [{ type: 'TransferRequested', data: { ...rest, requestedBy: by } }];
    }
    case 'RecordDebit': {
      const transfer = requireExisting(state);
      if (transfer.status === 'debited') return [];
      if (transfer.status !== 'requested') throw finished(transfer.status);
      const { transferId, fromAccountId, amount } = transfer;
      return [
        { type: 'TransferDebited', data: { transferId, fromAccountId, amount, currency: command.currency } },
      ];
    }
    case 'ChooseLeg': {
      const transfer = requireExisting(state);
      const { transferId, leg, depositRefused } = command;
      const chosen = [
        {
          type: 'TransferLegChosen' as const,
          data: { transferId, leg, ...(depositRefused !== undefined && { depositRefused }) },
        },
      ];
      if (transfer.leg === leg) return [];
      // A withdrawal that landed after the transfer failed is given back: the one choice left.
      if (
        transfer.status === 'failed' &&
        !transfer.compensated &&
        leg === 'refund' &&
        transfer.leg === undefined
      )
        return chosen;
      if (transfer.status === 'requested')
        throw reject('transfer_not_debited', 'the source has not been debited yet', 'conflict');
      if (transfer.status !== 'debited') throw finished(transfer.status);
      if (transfer.leg === undefined) return chosen;
      if (transfer.leg === 'deposit' && leg === 'refund' && depositRefused !== undefined) return chosen;
      throw reject('other_leg_chosen', `the ${transfer.leg} was chosen already`, 'conflict');
    }
    case 'CompleteTransfer': {
      const transfer = requireExisting(state);
      if (transfer.status === 'completed') return [];
      if (transfer.status === 'requested')
        throw reject('transfer_not_debited', 'the source has not been debited yet', 'conflict');
      if (transfer.status !== 'debited') throw finished(transfer.status);
      if (transfer.leg !== 'deposit')
        throw reject('leg_not_chosen', 'the deposit was not chosen to settle this transfer', 'conflict');
      const { transferId, toAccountId, amount } = transfer;
      return [{ type: 'TransferCompleted', data: { transferId, toAccountId, amount } }];
    }
    case 'CompensateTransfer': {
      const transfer = requireExisting(state);
      if (transfer.status === 'failed' && transfer.compensated) return [];
      if (transfer.status === 'requested')
        throw reject('transfer_not_debited', 'nothing to compensate: the source was not debited', 'conflict');
      if (transfer.leg !== 'refund')
        throw reject('leg_not_chosen', 'the refund was not chosen to settle this transfer', 'conflict');
      const { transferId, fromAccountId, amount } = transfer;
      // A late withdrawal given back: the transfer had failed already.
      if (transfer.status === 'failed')
        return [{ type: 'TransferCompensated', data: { transferId, fromAccountId, amount } }];
      if (transfer.status !== 'debited') throw finished(transfer.status);
      return [
        { type: 'TransferCompensated', data: { transferId, fromAccountId, amount } },
        { type: 'TransferFailed', data: { transferId, reason: command.reason } },
      ];
    }
    case 'FailTransfer': {
      const transfer = requireExisting(state);
      if (transfer.status === 'failed') return [];
      if (transfer.status === 'completed') throw finished(transfer.status);
      if (transfer.status === 'debited' && command.refundRefused === undefined)
        throw reject('refund_required', 'the source was debited: compensate it before failing', 'conflict');
      if (transfer.status === 'debited' && transfer.leg !== 'refund')
        throw reject('leg_not_chosen', 'the refund was not chosen to settle this transfer', 'conflict');
      if (transfer.status === 'requested' && command.refundRefused !== undefined)
        throw reject('transfer_not_debited', 'nothing to refund: the source was not debited', 'conflict');
      const { transferId, reason, refundRefused } = command;
      return [
        {
          type: 'TransferFailed',
          data: { transferId, reason, ...(refundRefused !== undefined && { refundRefused }) },
        },
      ];
    }
  }
};

export const evolve = (state: TransferState, event: TransferEvent): TransferState => {
  if (event.type === 'TransferRequested') return { status: 'requested', ...event.data, compensated: false };
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'TransferDebited':
      return { ...state, status: 'debited', currency: event.data.currency };
    case 'TransferLegChosen':
      return {
        ...state,
        leg: event.data.leg,
        ...(event.data.depositRefused !== undefined && { depositRefused: event.data.depositRefused }),
      };
    case 'TransferCompleted':
      return { ...state, status: 'completed' };
    case 'TransferCompensated':
      return { ...state, compensated: true };
    case 'TransferFailed':
      return {
        ...state,
        status: 'failed',
        reason: event.data.reason,
        ...(event.data.refundRefused !== undefined && { refundRefused: event.data.refundRefused }),
      };
  }
};

export const transferDecider: Decider<TransferCommand, TransferEvent, TransferState> = {
  initialState: { status: 'none' },
  decide,
  evolve,
};

export const transferAggregate: Aggregate<TransferCommand, TransferEvent, TransferState> = {
  category: 'transfer',
  decider: transferDecider,
  ...transferEvents,
};
