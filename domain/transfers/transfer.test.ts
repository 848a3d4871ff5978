import { describe, expect, it } from 'vitest';
import { fold } from '../shared/decider.js';
import { spec } from '../shared/decider-specification.js';
import { TransferCommand, type TransferEvent, transferDecider } from './transfer.js';

const given = spec(transferDecider).given;
const transferId = 't-1';
const deadline = '2030-01-01T00:00:00.000Z';
const request = {
  type: 'RequestTransfer' as const,
  transferId,
  fromAccountId: 'a',
  toAccountId: 'b',
  amount: 250,
  deadline,
  by: { subject: 'ada', roles: [] },
};
const requested: TransferEvent = {
  type: 'TransferRequested',
  data: {
    transferId,
    fromAccountId: 'a',
    toAccountId: 'b',
    amount: 250,
    deadline,
    requestedBy: { subject: 'ada', roles: [] },
  },
};
const debited: TransferEvent = {
  type: 'TransferDebited',
  data: { transferId, fromAccountId: 'a', amount: 250, currency: 'EUR' },
};
const completed: TransferEvent = {
  type: 'TransferCompleted',
  data: { transferId, toAccountId: 'b', amount: 250 },
};
const compensated: TransferEvent = {
  type: 'TransferCompensated',
  data: { transferId, fromAccountId: 'a', amount: 250 },
};
const failed = (reason: 'insufficient_funds' | 'account_closed' | 'deadline_exceeded'): TransferEvent => ({
  type: 'TransferFailed',
  data: { transferId, reason },
});

const choose = (leg: 'deposit' | 'refund', depositRefused?: string) => ({
  type: 'ChooseLeg' as const,
  transferId,
  leg,
  ...(depositRefused && { depositRefused }),
});
const chosen = (leg: 'deposit' | 'refund', depositRefused?: string): TransferEvent => ({
  type: 'TransferLegChosen',
  data: { transferId, leg, ...(depositRefused && { depositRefused }) },
});
const recordDebit = { type: 'RecordDebit' as const, transferId, currency: 'EUR' };
const complete = { type: 'CompleteTransfer' as const, transferId };
const compensate = { type: 'CompensateTransfer' as const, transferId, reason: 'account_closed' as const };
const fail = { type: 'FailTransfer' as const, transferId, reason: 'insufficient_funds' as const };

describe('Transfer decider', () => {
  describe('RequestTransfer', () => {
    it('records the request', () => given([]).when(request).then([requested]));

    it('rejects a transfer to the same account', () =>
      given([])
        .when({ ...request, toAccountId: 'a' })
        .thenRejects('same_account'));

    it('rejects a second request with the same id', () =>
      given([requested]).when(request).thenRejects('transfer_already_exists'));

    it.each([
      ['a zero amount', { amount: 0 }],
      ['a fractional amount', { amount: 1.5 }],
      ['a malformed deadline', { deadline: 'tomorrow' }],
      ['a bad account id', { toAccountId: 'a/b' }],
    ])('is refused by the command schema with %s', (_name, change) => {
      expect(TransferCommand.safeParse({ ...request, ...change }).success).toBe(false);
    });
  });

  describe('RecordDebit', () => {
    it('records the debit with the currency withdrawn', () =>
      given([requested]).when(recordDebit).then([debited]));

    it('decides nothing when the debit is already recorded (a redelivery)', () =>
      given([requested, debited]).when(recordDebit).then([]));

    it('rejects a debit for a transfer that does not exist', () =>
      given([]).when(recordDebit).thenRejects('transfer_not_found'));

    it('rejects a debit once the transfer has failed', () =>
      given([requested, failed('deadline_exceeded')])
        .when(recordDebit)
        .thenRejects('transfer_finished'));

    it('rejects a debit once the transfer has completed', () =>
      given([requested, debited, completed]).when(recordDebit).thenRejects('transfer_finished'));
  });

  describe('ChooseLeg', () => {
    it('records the leg chosen to move the money after the debit', () =>
      given([requested, debited])
        .when(choose('deposit'))
        .then([chosen('deposit')]));

    it('decides nothing when that leg is chosen already (a redelivery)', () =>
      given([requested, debited, chosen('deposit')])
        .when(choose('deposit'))
        .then([]));

    it('refuses the other leg once one is chosen: only one of them may ever run', () =>
      given([requested, debited, chosen('deposit')])
        .when(choose('refund'))
        .thenRejects('other_leg_chosen'));

    it('moves from the deposit to the refund only with the rule that refused the deposit', () =>
      given([requested, debited, chosen('deposit')])
        .when(choose('refund', 'account_closed'))
        .then([chosen('refund', 'account_closed')]));

    it('never moves from the refund back to the deposit', () =>
      given([requested, debited, chosen('refund')])
        .when(choose('deposit'))
        .thenRejects('other_leg_chosen'));

    it('refuses a choice before the debit', () =>
      given([requested]).when(choose('deposit')).thenRejects('transfer_not_debited'));

    it('chooses the refund for a failed transfer, to give back a withdrawal that landed late', () =>
      given([requested, failed('insufficient_funds')])
        .when(choose('refund'))
        .then([chosen('refund')]));

    it('refuses the deposit for a failed transfer', () =>
      given([requested, failed('insufficient_funds')])
        .when(choose('deposit'))
        .thenRejects('transfer_finished'));
  });

  describe('CompleteTransfer', () => {
    it('completes a debited transfer once the deposit was chosen', () =>
      given([requested, debited, chosen('deposit')])
        .when(complete)
        .then([completed]));

    it('refuses to complete when the deposit was not chosen: it may never have run', () => {
      given([requested, debited]).when(complete).thenRejects('leg_not_chosen');
      given([requested, debited, chosen('refund')])
        .when(complete)
        .thenRejects('leg_not_chosen');
    });

    it('decides nothing when already completed', () =>
      given([requested, debited, completed]).when(complete).then([]));

    it('rejects completing before the debit', () =>
      given([requested]).when(complete).thenRejects('transfer_not_debited'));

    it('rejects completing a failed transfer', () =>
      given([requested, debited, compensated, failed('account_closed')])
        .when(complete)
        .thenRejects('transfer_finished'));

    it('rejects completing a transfer that does not exist', () =>
      given([]).when(complete).thenRejects('transfer_not_found'));
  });

  describe('CompensateTransfer', () => {
    it('records the refund and the failure together', () =>
      given([requested, debited, chosen('refund')])
        .when(compensate)
        .then([compensated, failed('account_closed')]));

    it('decides nothing when already compensated', () =>
      given([requested, debited, compensated, failed('account_closed')])
        .when(compensate)
        .then([]));

    it('rejects compensating a transfer whose source was never debited', () =>
      given([requested]).when(compensate).thenRejects('transfer_not_debited'));

    it('rejects compensating a completed transfer', () =>
      given([requested, debited, chosen('deposit'), completed])
        .when(compensate)
        .thenRejects('leg_not_chosen'));

    it('refuses to compensate when the refund was not chosen: it may never have run', () =>
      given([requested, debited, chosen('deposit')])
        .when(compensate)
        .thenRejects('leg_not_chosen'));

    it('records a late withdrawal given back after the transfer had failed, without failing it again', () =>
      given([requested, failed('insufficient_funds'), chosen('refund')])
        .when(compensate)
        .then([compensated]));
  });

  describe('FailTransfer', () => {
    it('fails a transfer whose source was not debited', () =>
      given([requested])
        .when(fail)
        .then([failed('insufficient_funds')]));

    it('decides nothing when already failed', () =>
      given([requested, failed('insufficient_funds')])
        .when(fail)
        .then([]));

    it('refuses to fail a debited transfer without a refund', () =>
      given([requested, debited]).when(fail).thenRejects('refund_required'));

    it('fails a debited transfer whose refund was refused, recording the refusal', () =>
      given([requested, debited, chosen('refund')])
        .when({ ...fail, reason: 'account_closed', refundRefused: 'account_closed' })
        .then([
          {
            type: 'TransferFailed',
            data: { transferId, reason: 'account_closed', refundRefused: 'account_closed' },
          },
        ]));

    it('rejects a refund refusal when nothing was debited', () =>
      given([requested])
        .when({ ...fail, refundRefused: 'account_closed' })
        .thenRejects('transfer_not_debited'));

    it('rejects failing a completed transfer', () =>
      given([requested, debited, completed]).when(fail).thenRejects('transfer_finished'));

    it('rejects failing a transfer that does not exist', () =>
      given([]).when(fail).thenRejects('transfer_not_found'));
  });

  describe('state', () => {
    it('follows the transfer through debit, refund and failure', () => {
      const state = fold(transferDecider, [
        requested,
        debited,
        chosen('deposit'),
        chosen('refund', 'account_closed'),
        compensated,
        failed('account_closed'),
      ]);
      expect(state).toEqual({
        status: 'failed',
        ...requested.data,
        currency: 'EUR',
        leg: 'refund',
        depositRefused: 'account_closed',
        compensated: true,
        reason: 'account_closed',
      });
    });
  });
});
