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
const choose = (leg: 'deposit' | 'refund', depositRefused?: string): TransferNext => ({
  type: 'Record',
  command: { type: 'ChooseLeg', transferId, leg, ...(depositRefused && { depositRefused }) },
});
const chosen = (leg: 'deposit' | 'refund', depositRefused?: string): TransferEvent => ({
  type: 'TransferLegChosen',
  data: { transferId, leg, ...(depositRefused && { depositRefused }) },
});
const lateCompensated: TransferEvent = {
  type: 'TransferCompensated',
  data: { transferId, fromAccountId: 'a', amount: 30 },
};
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
      [
        requested,
        debited,
        chosen('refund'),
        compensated,
        { ...failed, data: { transferId, reason: 'account_closed' } },
      ],
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
    it('chooses the deposit first, recording the choice before any money moves', () =>
      given([requested, debited, both]).when(before).then(choose('deposit')));

    it('deposits to the target in the currency withdrawn, once the deposit is chosen', () =>
      given([requested, debited, chosen('deposit'), both])
        .when(before)
        .then(deposit));

    it('completes once the deposit landed', () =>
      given([requested, debited, chosen('deposit'), both, landed('deposit')])
        .when(before)
        .then(complete));

    it('completes, not refunds, when the deposit is found past the deadline', () =>
      given([requested, debited, chosen('deposit'), both, found('deposit')])
        .when(after)
        .then(complete));

    it('keeps trying the chosen deposit past the deadline: a refund beside it could create money', () =>
      given([requested, debited, chosen('deposit'), both])
        .when(after)
        .then(deposit));

    it('moves the choice to the refund, with the reason, when the target refuses the deposit', () =>
      given([requested, debited, chosen('deposit'), both, refused('deposit', 'account_closed')])
        .when(before)
        .then(choose('refund', 'account_closed')));

    it('refunds the source once the refund is chosen', () =>
      given([requested, debited, chosen('refund', 'account_closed'), both])
        .when(before)
        .then(refund));

    it('records the compensation with the refusal as its reason once the refund landed', () =>
      given([requested, debited, chosen('refund', 'account_closed'), both, landed('refund')])
        .when(after)
        .then(compensate('account_closed')));

    it('chooses the refund when the deadline passed before any choice', () =>
      given([requested, debited, both]).when(after).then(choose('refund')));

    it('records that compensation as deadline_exceeded, whatever the target would say now', () =>
      given([requested, debited, chosen('refund'), accounts(open(70), closed), landed('refund')])
        .when(after)
        .then(compensate('deadline_exceeded')));

    it('records a refund the source refuses, leaving the stranded amount visible', () =>
      given([
        requested,
        debited,
        chosen('refund', 'account_closed'),
        accounts(closed, closed),
        refused('refund', 'account_closed'),
      ])
        .when(before)
        .then(fail('account_closed', 'account_closed')));

    it('records a refund found (the process stopped before recording it), never followed by a deposit', () =>
      given([requested, debited, chosen('refund'), both, found('refund')])
        .when(before)
        .then(compensate('deadline_exceeded')));
  });

  describe('failed before the debit, and a withdrawal found after all', () => {
    // Another process ran the withdrawal on an older view: the source could not pay when this one
    // failed the transfer, and could when the other one withdrew.
    it('chooses the refund', () =>
      given([requested, failed, both, found('withdraw')])
        .when(before)
        .then(choose('refund')));

    it('refunds the source', () =>
      given([requested, failed, chosen('refund'), both, found('withdraw')])
        .when(after)
        .then(refund));

    it('records the compensation once the refund landed', () =>
      given([requested, failed, chosen('refund'), both, found('withdraw'), landed('refund')])
        .when(before)
        .then(compensate('insufficient_funds')));

    it('does nothing once compensated', () =>
      given([requested, failed, chosen('refund'), lateCompensated, both, found('withdraw'), found('refund')])
        .when(before)
        .thenNothing());
  });

  it('keeps the key order of each leg command: it is part of the leg idempotency hash', () => {
    const next = (history: TransferObservation[]) =>
      transferWorkflow.decide(history.reduce(transferWorkflow.evolve, transferWorkflow.initialState), 0);
    expect(JSON.stringify(next([requested, both]))).toContain(
      '{"type":"WithdrawMoney","accountId":"a","amount":30,"by":{"subject":"ada","roles":[]},"reference":"t-1"}',
    );
    expect(JSON.stringify(next([requested, debited, chosen('deposit'), both]))).toContain(
      '{"type":"DepositMoney","accountId":"b","amount":30,"currency":"EUR","reference":"t-1"}',
    );
    expect(JSON.stringify(next([requested, debited, chosen('refund', 'x'), both]))).toContain(
      '{"type":"DepositMoney","accountId":"a","amount":30,"reference":"t-1"}',
    );
  });
});
