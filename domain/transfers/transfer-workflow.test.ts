import { describe, expect, it } from 'vitest';
import type { AccountState } from '../accounts/account.js';
import { workflowSpec } from '../shared/workflow-specification.js';
import type { TransferEvent, TransferFailureReason } from './transfer.js';
import { type TransferNext, type TransferObservation, transferWorkflow } from './transfer-workflow.js';

const given = workflowSpec(transferWorkflow).given;
const transferId = 't-1';
const deadline = '2030-01-01T00:00:00.000Z';
const before = '2029-12-31T23:59:59.999Z';
const after = deadline; // the deadline has passed from its very instant on

const requestedBy = { subject: 'ada', roles: [] };
const requested: TransferEvent = {
  type: 'TransferRequested',
  data: { transferId, fromAccountId: 'a', toAccountId: 'b', amount: 30, deadline, requestedBy },
};
const debited: TransferEvent = {
  type: 'TransferDebited',
  data: { transferId, fromAccountId: 'a', amount: 30, currency: 'EUR' },
};
const completed: TransferEvent = {
  type: 'TransferCompleted',
  data: { transferId, toAccountId: 'b', amount: 30 },
};
const compensated: TransferEvent = {
  type: 'TransferCompensated',
  data: { transferId, fromAccountId: 'a', amount: 30 },
};
const failed: TransferEvent = { type: 'TransferFailed', data: { transferId, reason: 'insufficient_funds' } };

const open = (balance: number, currency = 'EUR'): AccountState => ({
  status: 'open',
  owner: 'T',
  ownerId: 'ada',
  currency,
  balance,
});
const closed: AccountState = { status: 'closed', owner: 'T', ownerId: 'ada', currency: 'EUR', balance: 0 };
const missing: AccountState = { status: 'none' };
const accounts = (source: AccountState, target: AccountState): TransferObservation => ({
  type: 'AccountsRead',
  source,
  target,
});
const both = accounts(open(100), open(0));

const found = (leg: 'withdraw' | 'deposit' | 'refund'): TransferObservation => ({ type: 'LegFound', leg });
const landed = (leg: 'withdraw' | 'deposit' | 'refund'): TransferObservation => ({ type: 'LegRan', leg });
const refused = (leg: 'withdraw' | 'deposit' | 'refund', code: string): TransferObservation => ({
  type: 'LegRan',
  leg,
  refused: code,
});

const withdraw: TransferNext = {
  type: 'RunLeg',
  leg: 'withdraw',
  command: { type: 'WithdrawMoney', accountId: 'a', amount: 30, by: requestedBy, reference: transferId },
};
const deposit: TransferNext = {
  type: 'RunLeg',
  leg: 'deposit',
  command: { type: 'DepositMoney', accountId: 'b', amount: 30, currency: 'EUR', reference: transferId },
};
const refund: TransferNext = {
  type: 'RunLeg',
  leg: 'refund',
  command: { type: 'DepositMoney', accountId: 'a', amount: 30, reference: transferId },
};
const recordDebit: TransferNext = {
  type: 'Record',
  command: { type: 'RecordDebit', transferId, currency: 'EUR' },
  causedBy: 'withdraw',
};
const complete: TransferNext = {
  type: 'Record',
  command: { type: 'CompleteTransfer', transferId },
  causedBy: 'deposit',
};
const compensate = (reason: TransferFailureReason): TransferNext => ({
  type: 'Record',
  command: { type: 'CompensateTransfer', transferId, reason },
  causedBy: 'refund',
});
const fail = (reason: TransferFailureReason, refundRefused?: string): TransferNext => ({
  type: 'Record',
  command: { type: 'FailTransfer', transferId, reason, ...(refundRefused && { refundRefused }) },
});

describe('transfer workflow', () => {
  it('does nothing for a transfer that does not exist', () => given([both]).when(before).thenNothing());

  it.each([
    ['completed', [requested, debited, completed]],
    ['failed', [requested, failed]],
    [
      'compensated',
      [requested, debited, compensated, { ...failed, data: { transferId, reason: 'account_closed' } }],
    ],
  ] as [string, TransferEvent[]][])(
    'does nothing for a %s transfer, even past its deadline',
    (_name, events) =>
      given([...events, both])
        .when(after)
        .thenNothing(),
  );

  describe('requested', () => {
    it('withdraws from the source first', () => given([requested, both]).when(before).then(withdraw));

    it('records the debit, with the source currency, once the withdrawal landed', () =>
      given([requested, both, landed('withdraw')])
        .when(before)
        .then(recordDebit));

    it('records a withdrawal found in the source, even past the deadline', () =>
      given([requested, both, found('withdraw')])
        .when(after)
        .then(recordDebit));

    it('fails the transfer with the rule that refused the withdrawal', () =>
      given([requested, both, refused('withdraw', 'insufficient_funds')])
        .when(before)
        .then(fail('insufficient_funds')));

    it('fails it with the refusal even when the deadline passed meanwhile', () =>
      given([requested, both, refused('withdraw', 'insufficient_funds')])
        .when(after)
        .then(fail('insufficient_funds')));

    it('withdraws as the one who asked, so only the source owner (or an admin) succeeds', () =>
      given([requested, both]).when(before).then(withdraw));

    it('fails the transfer when the asker does not own the source', () =>
      given([requested, both, refused('withdraw', 'not_account_owner')])
        .when(before)
        .then(fail('not_account_owner')));

    it("names a rule it does not know 'rejected'", () =>
      given([requested, both, refused('withdraw', 'frozen_by_compliance')])
        .when(before)
        .then(fail('rejected')));

    it('fails a transfer whose deadline passed before anything was withdrawn', () =>
      given([requested, both]).when(after).then(fail('deadline_exceeded')));

    it.each([
      ['closed', closed, 'account_closed'],
      ['missing', missing, 'account_not_found'],
      ['in another currency', open(0, 'USD'), 'currency_mismatch'],
    ] as const)('fails a transfer to a %s target before the source is touched', (_name, target, reason) =>
      given([requested, accounts(open(100), target)])
        .when(before)
        .then(fail(reason)),
    );

    it('tries the withdrawal from a missing source, whose refusal then fails the transfer', () => {
      given([requested, accounts(missing, open(0))])
        .when(before)
        .then(withdraw);
      given([requested, accounts(missing, open(0)), refused('withdraw', 'account_not_found')])
        .when(before)
        .then(fail('account_not_found'));
    });
  });

  describe('debited', () => {
    it('deposits to the target in the currency withdrawn', () =>
      given([requested, debited, both]).when(before).then(deposit));

    it('completes once the deposit landed', () =>
      given([requested, debited, both, landed('deposit')])
        .when(before)
        .then(complete));

    it('completes, not refunds, when the deposit is found past the deadline', () =>
      given([requested, debited, both, found('deposit')])
        .when(after)
        .then(complete));

    it('refunds the source when the target refuses the deposit', () =>
      given([requested, debited, both, refused('deposit', 'account_closed')])
        .when(before)
        .then(refund));

    it('records the compensation with the refusal as its reason once the refund landed', () =>
      given([requested, debited, both, refused('deposit', 'account_closed'), landed('refund')])
        .when(after)
        .then(compensate('account_closed')));

    it('refunds the source when the deadline passed with no deposit found', () =>
      given([requested, debited, both]).when(after).then(refund));

    it('records that compensation as deadline_exceeded, whatever the target would say now', () =>
      given([requested, debited, accounts(open(70), closed), landed('refund')])
        .when(after)
        .then(compensate('deadline_exceeded')));

    it('records a refund the source refuses, leaving the stranded amount visible', () =>
      given([
        requested,
        debited,
        accounts(closed, closed),
        refused('deposit', 'account_closed'),
        refused('refund', 'account_closed'),
      ])
        .when(before)
        .then(fail('account_closed', 'account_closed')));

    describe('a refund found unrecorded (the process stopped before recording it)', () => {
      it('is recorded, never followed by a deposit, though the target would take the money', () =>
        given([requested, debited, both, found('refund')])
          .when(before)
          .then(compensate('rejected')));

      it("takes the target's refusal as its reason if it still refuses", () =>
        given([requested, debited, accounts(open(70), closed), found('refund')])
          .when(after)
          .then(compensate('account_closed')));

      it('else the deadline, once it has passed', () =>
        given([requested, debited, both, found('refund')])
          .when(after)
          .then(compensate('deadline_exceeded')));
    });
  });

  it('keeps the key order of each leg command: it is part of the leg idempotency hash', () => {
    const next = (history: TransferObservation[]) =>
      transferWorkflow.decide(history.reduce(transferWorkflow.evolve, transferWorkflow.initialState), 0);
    expect(JSON.stringify(next([requested, both]))).toContain(
      '{"type":"WithdrawMoney","accountId":"a","amount":30,"by":{"subject":"ada","roles":[]},"reference":"t-1"}',
    );
    expect(JSON.stringify(next([requested, debited, both]))).toContain(
      '{"type":"DepositMoney","accountId":"b","amount":30,"currency":"EUR","reference":"t-1"}',
    );
    expect(JSON.stringify(next([requested, debited, both, refused('deposit', 'x')]))).toContain(
      '{"type":"DepositMoney","accountId":"a","amount":30,"reference":"t-1"}',
    );
  });
});
