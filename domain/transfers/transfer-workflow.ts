import { type AccountCommand, type AccountState, accountDecider } from '../accounts/account.js';
import { isDomainError } from '../shared/domain-error.js';
import type { Workflow } from '../shared/workflow.js';
import {
  type TransferCommand,
  type TransferEvent,
  TransferFailureReason,
  type TransferState,
  transferDecider,
} from './transfer.js';

/**
 * The transfer saga's decisions, as a pure function from what has happened to the next command
 * (commands/transfers/transfer-process.ts reads the streams, passes the time in, and carries the
 * decision out; commands/process-manager/ is the engine underneath).
 *
 * What has happened: the transfer's own events; the two accounts as they stand; which legs are
 * found in them by their step keys (`transfer:<id>:withdraw|deposit|refund`); and what a leg the
 * process ran just now did (landed, or an account rule refused it).
 *
 * The next command is either an account leg to run (with its step key, so that however often it
 * is run it moves money at most once) or a transfer command to record. The deadline is judged
 * only here, between steps, never while a leg is in flight. After the deadline a leg found in an
 * account is still recorded: a withdrawal found is recorded and then refunded, a deposit found
 * completes the transfer (the money arrived; refunding as well would create money), and only a
 * leg never found is given up. A refund found unrecorded is recorded, never followed by a deposit.
 */
export type Leg = 'withdraw' | 'deposit' | 'refund';

export type TransferObservation =
  | TransferEvent
  /** The source and target accounts, read when the transfer's stream was. */
  | { type: 'AccountsRead'; source: AccountState; target: AccountState }
  /** The leg's event is in its account's stream, found there by its step key when it was read. */
  | { type: 'LegFound'; leg: Leg }
  /** The process ran the leg just now: it landed, or the account rule `refused` (its code) said no. */
  | { type: 'LegRan'; leg: Leg; refused?: string };

/** An account command, with the transfer's id as its reference. */
export type LegCommand = Extract<AccountCommand, { type: 'WithdrawMoney' | 'DepositMoney' }> & {
  reference: string;
};

/** A leg command before the transfer's id is added (Omit distributed over the union). */
type LegWithoutReference = LegCommand extends infer C
  ? C extends unknown
    ? Omit<C, 'reference'>
    : never
  : never;

export type TransferNext =
  | { type: 'RunLeg'; leg: Leg; command: LegCommand }
  /** `causedBy`: the leg whose event caused it; otherwise the transfer's last event did. */
  | { type: 'Record'; command: TransferCommand; causedBy?: Leg };

export type TransferProcessState = {
  transfer: TransferState;
  source: AccountState;
  target: AccountState;
  /** Legs whose event exists: found when the accounts were read, or run (and landed) since. */
  found: Partial<Record<Leg, 'read' | 'ran'>>;
  /** Legs an account rule refused since the accounts were read, with the rule's code. */
  refused: Partial<Record<Leg, string>>;
};

const initialState: TransferProcessState = {
  transfer: transferDecider.initialState,
  source: { status: 'none' },
  target: { status: 'none' },
  found: {},
  refused: {},
};

const evolve = (state: TransferProcessState, observation: TransferObservation): TransferProcessState => {
  switch (observation.type) {
    case 'AccountsRead':
      return { ...state, source: observation.source, target: observation.target };
    case 'LegFound':
      return { ...state, found: { ...state.found, [observation.leg]: 'read' } };
    case 'LegRan':
      return observation.refused === undefined
        ? { ...state, found: { ...state.found, [observation.leg]: 'ran' } }
        : { ...state, refused: { ...state.refused, [observation.leg]: observation.refused } };
    default:
      return { ...state, transfer: transferDecider.evolve(state.transfer, observation) };
  }
};

/** The failure reason for an account rule's code; `rejected` for a rule this list does not know. */
export const reasonFor = (code: string): TransferFailureReason => {
  const parsed = TransferFailureReason.safeParse(code);
  return parsed.success ? parsed.data : 'rejected';
};

/** The account rule that would refuse this deposit, given the account as it stands, if any. */
const depositRefusal = (account: AccountState, accountId: string, amount: number, currency?: string) => {
  try {
    accountDecider.decide({ type: 'DepositMoney', accountId, amount, currency }, account);
    return undefined;
  } catch (error) {
    if (isDomainError(error)) return error.code;
    throw error;
  }
};

const decide = (state: TransferProcessState, now: number): TransferNext | undefined => {
  const transfer = state.transfer;
  if (transfer.status === 'none' || transfer.status === 'completed') return undefined;
  const { transferId, fromAccountId, toAccountId, amount } = transfer;
  const expired = now >= Date.parse(transfer.deadline);
  const record = (command: TransferCommand, causedBy?: Leg): TransferNext => ({
    type: 'Record',
    command,
    ...(causedBy && { causedBy }),
  });
  // The key order of each command is part of its idempotency hash: keep it as it is.
  const leg = (name: Leg, command: LegWithoutReference): TransferNext => ({
    type: 'RunLeg',
    leg: name,
    command: { ...command, reference: transferId } as LegCommand,
  });
  const refund = () => leg('refund', { type: 'DepositMoney', accountId: fromAccountId, amount });
  const choose = (chosen: 'deposit' | 'refund', depositRefused?: string): TransferNext =>
    record({
      type: 'ChooseLeg',
      transferId,
      leg: chosen,
      ...(depositRefused !== undefined && { depositRefused }),
    });
  const fail = (reason: TransferFailureReason): TransferNext =>
    record({ type: 'FailTransfer', transferId, reason });

  if (transfer.status === 'failed') {
    // Failed before the debit, and yet a withdrawal is found: another process ran it on an older
    // view (the source could not pay then, and could when it ran). Give it back.
    if (transfer.compensated || transfer.refundRefused !== undefined || !state.found.withdraw)
      return undefined;
    if (state.found.refund)
      return record(
        { type: 'CompensateTransfer', transferId, reason: transfer.reason ?? 'rejected' },
        'refund',
      );
    // Refused (the source closed meanwhile): nothing more can be done here; the process logs it.
    if (state.refused.refund !== undefined) return undefined;
    return transfer.leg === 'refund' ? refund() : choose('refund');
  }

  if (transfer.status === 'requested') {
    const currency = state.source.status === 'none' ? undefined : state.source.currency;
    if (state.found.withdraw && currency)
      return record({ type: 'RecordDebit', transferId, currency }, 'withdraw');
    if (state.refused.withdraw !== undefined) return fail(reasonFor(state.refused.withdraw));
    if (expired) return fail('deadline_exceeded');
    // A target that cannot take the money fails the transfer before the source is touched, so
    // the common refusals leave no withdrawal and refund in the source's history.
    const refusal = currency && depositRefusal(state.target, toAccountId, amount, currency);
    if (refusal) return fail(reasonFor(refusal));
    return leg('withdraw', {
      type: 'WithdrawMoney',
      accountId: fromAccountId,
      amount,
      by: transfer.requestedBy,
    });
  }

  // Debited: choose the leg that moves the money (recorded before it runs, so only one ever runs),
  // then run it. The deadline decides only the choice: once the deposit is chosen it is tried
  // until it lands or the target refuses it, since a refund run beside a deposit would create money.
  if (transfer.leg === undefined) {
    if (state.found.deposit) return choose('deposit');
    if (state.found.refund || expired) return choose('refund');
    return choose('deposit');
  }
  if (transfer.leg === 'deposit') {
    if (state.found.deposit) return record({ type: 'CompleteTransfer', transferId }, 'deposit');
    if (state.refused.deposit !== undefined) return choose('refund', state.refused.deposit);
    return leg('deposit', {
      type: 'DepositMoney',
      accountId: toAccountId,
      amount,
      currency: transfer.currency,
    });
  }
  const whyRefunded =
    transfer.depositRefused !== undefined ? reasonFor(transfer.depositRefused) : 'deadline_exceeded';
  if (state.found.refund)
    return record({ type: 'CompensateTransfer', transferId, reason: whyRefunded }, 'refund');
  if (state.refused.refund !== undefined)
    // The source was closed (or filled) meanwhile: the amount is stranded, and a person must decide.
    return record({
      type: 'FailTransfer',
      transferId,
      reason: whyRefunded,
      refundRefused: state.refused.refund,
    });
  return refund();
};

export const transferWorkflow: Workflow<TransferObservation, TransferProcessState, TransferNext> = {
  initialState,
  evolve,
  decide,
};
