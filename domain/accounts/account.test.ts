import { describe, it } from 'vitest';
import { spec } from '../shared/decider-specification.js';
import { MAX_BALANCE } from '../shared/money.js';
import { type AccountEvent, accountDecider } from './account.js';

const given = spec(accountDecider).given;
const accountId = 'acc-1';
const ada = { subject: 'ada', roles: [] };
const bob = { subject: 'bob', roles: [] };
const admin = { subject: 'ops', roles: ['admin'] };
const opened: AccountEvent = {
  type: 'AccountOpened',
  data: { accountId, owner: 'Ada', ownerId: 'ada', currency: 'EUR' },
};
const deposited = (amount: number, balanceAfter: number): AccountEvent => ({
  type: 'MoneyDeposited',
  data: { accountId, amount, balanceBefore: balanceAfter - amount, balanceAfter, reference: undefined },
});
const closed: AccountEvent = { type: 'AccountClosed', data: { accountId } };

describe('Account decider', () => {
  describe('OpenAccount', () => {
    it('opens a new account', () =>
      given([])
        .when({ type: 'OpenAccount', accountId, owner: 'Ada', currency: 'EUR', by: ada })
        .then([opened]));

    it('makes whoever opens the account its owner', () =>
      given([])
        .when({ type: 'OpenAccount', accountId, owner: 'Ada Lovelace', currency: 'EUR', by: bob })
        .then([
          {
            type: 'AccountOpened',
            data: { accountId, owner: 'Ada Lovelace', ownerId: 'bob', currency: 'EUR' },
          },
        ]));

    it('rejects opening an account twice', () =>
      given([opened])
        .when({ type: 'OpenAccount', accountId, owner: 'Bob', currency: 'USD', by: bob })
        .thenRejects('account_already_exists'));
  });

  describe('DepositMoney', () => {
    it('takes a deposit from anyone: only taking money out needs the owner', () =>
      given([opened])
        .when({ type: 'DepositMoney', accountId, amount: 5 })
        .then([
          {
            type: 'MoneyDeposited',
            data: { accountId, amount: 5, balanceBefore: 0, balanceAfter: 5, reference: undefined },
          },
        ]));

    it('records the deposit with the balances it starts from and leaves', () =>
      given([opened, deposited(100, 100)])
        .when({ type: 'DepositMoney', accountId, amount: 50, reference: 'r1' })
        .then([
          {
            type: 'MoneyDeposited',
            data: { accountId, amount: 50, balanceBefore: 100, balanceAfter: 150, reference: 'r1' },
          },
        ]));

    it('rejects a deposit to an account that does not exist', () =>
      given([]).when({ type: 'DepositMoney', accountId, amount: 50 }).thenRejects('account_not_found'));

    it('rejects a deposit to a closed account', () =>
      given([opened, closed])
        .when({ type: 'DepositMoney', accountId, amount: 50 })
        .thenRejects('account_closed'));

    it('rejects a deposit in another currency', () =>
      given([opened])
        .when({ type: 'DepositMoney', accountId, amount: 50, currency: 'USD' })
        .thenRejects('currency_mismatch'));

    it('accepts a deposit that names the account currency', () =>
      given([opened])
        .when({ type: 'DepositMoney', accountId, amount: 50, currency: 'EUR' })
        .then([
          {
            type: 'MoneyDeposited',
            data: { accountId, amount: 50, balanceBefore: 0, balanceAfter: 50, reference: undefined },
          },
        ]));

    it('rejects a deposit that would take the balance over the limit', () =>
      given([opened, deposited(MAX_BALANCE, MAX_BALANCE)])
        .when({ type: 'DepositMoney', accountId, amount: 1 })
        .thenRejects('balance_limit_exceeded'));
  });

  describe('WithdrawMoney', () => {
    it('records the withdrawal with the balance it leaves', () =>
      given([opened, deposited(100, 100)])
        .when({ type: 'WithdrawMoney', accountId, amount: 100, by: ada })
        .then([
          { type: 'MoneyWithdrawn', data: { accountId, amount: 100, balanceAfter: 0, reference: undefined } },
        ]));

    it('rejects an overdraft', () =>
      given([opened, deposited(100, 100)])
        .when({ type: 'WithdrawMoney', accountId, amount: 101, by: ada })
        .thenRejects('insufficient_funds'));

    it('rejects a withdrawal from an account that does not exist', () =>
      given([])
        .when({ type: 'WithdrawMoney', accountId, amount: 1, by: ada })
        .thenRejects('account_not_found'));

    it('rejects a withdrawal from a closed account', () =>
      given([opened, closed])
        .when({ type: 'WithdrawMoney', accountId, amount: 1, by: ada })
        .thenRejects('account_closed'));

    it('rejects a withdrawal in another currency', () =>
      given([opened, deposited(100, 100)])
        .when({ type: 'WithdrawMoney', accountId, amount: 1, currency: 'GBP', by: ada })
        .thenRejects('currency_mismatch'));

    it('rejects a withdrawal by someone who does not own the account', () =>
      given([opened, deposited(100, 100)])
        .when({ type: 'WithdrawMoney', accountId, amount: 1, by: bob })
        .thenRejects('not_account_owner'));

    it('lets an admin withdraw from any account', () =>
      given([opened, deposited(100, 100)])
        .when({ type: 'WithdrawMoney', accountId, amount: 40, by: admin })
        .then([
          { type: 'MoneyWithdrawn', data: { accountId, amount: 40, balanceAfter: 60, reference: undefined } },
        ]));
  });

  describe('CloseAccount', () => {
    it('rejects closing by someone who does not own the account', () =>
      given([opened]).when({ type: 'CloseAccount', accountId, by: bob }).thenRejects('not_account_owner'));

    it('lets an admin close any empty account', () =>
      given([opened]).when({ type: 'CloseAccount', accountId, by: admin }).then([closed]));

    it('closes an empty account', () =>
      given([opened]).when({ type: 'CloseAccount', accountId, by: ada }).then([closed]));

    it('rejects closing an account that still holds money', () =>
      given([opened, deposited(1, 1)])
        .when({ type: 'CloseAccount', accountId, by: ada })
        .thenRejects('balance_not_zero'));

    it('rejects closing an account twice', () =>
      given([opened, closed])
        .when({ type: 'CloseAccount', accountId, by: ada })
        .thenRejects('account_closed'));

    it('rejects closing an account that does not exist', () =>
      given([]).when({ type: 'CloseAccount', accountId, by: ada }).thenRejects('account_not_found'));
  });
});
