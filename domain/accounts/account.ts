import { z } from 'zod';
import { Actor, actsFor } from '../shared/actor.js';
import type { Aggregate, Decider } from '../shared/decider.js';
import { DomainError } from '../shared/domain-error.js';
import { eventHistory, eventVersions } from '../shared/event-versions.js';
import { Amount, Currency, MAX_BALANCE } from '../shared/money.js';

export const AccountId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'accountId must be 1-64 letters, digits, "-" or "_"');
const Owner = z.string().trim().min(1).max(200);
const Reference = z.string().min(1).max(200);

// ── Commands ────────────────────────────────────────────────────────────────
// The subject that opens an account owns it: only it (or an admin) may withdraw, close it, or move
// money out of it with a transfer. `owner` is the holder's name, shown in views; `by` is who asked.
export const OpenAccount = z.object({
  type: z.literal('OpenAccount'),
  accountId: AccountId,
  owner: Owner,
  currency: Currency,
  by: Actor,
});
export const DepositMoney = z.object({
  type: z.literal('DepositMoney'),
  accountId: AccountId,
  amount: Amount,
  currency: Currency.optional(),
  reference: Reference.optional(),
});
export const WithdrawMoney = z.object({
  type: z.literal('WithdrawMoney'),
  accountId: AccountId,
  amount: Amount,
  currency: Currency.optional(),
  reference: Reference.optional(),
  by: Actor,
});
export const CloseAccount = z.object({
  type: z.literal('CloseAccount'),
  accountId: AccountId,
  by: Actor,
});
export const AccountCommand = z.discriminatedUnion('type', [
  OpenAccount,
  DepositMoney,
  WithdrawMoney,
  CloseAccount,
]);
export type AccountCommand = z.infer<typeof AccountCommand>;

// ── Events ──────────────────────────────────────────────────────────────────
// Deposits and withdrawals carry the balance they leave behind, so a read model can be written
// from one event alone, without reading what it wrote before.
export const AccountOpened = z.object({
  type: z.literal('AccountOpened'),
  data: z.object({ accountId: AccountId, owner: Owner, ownerId: Actor.shape.subject, currency: Currency }),
});
// Version 2 (current): a deposit also records the balance it started from, so a statement line
// reads alone. Version 1 is below, with how its events read as version 2.
export const MoneyDeposited = z.object({
  type: z.literal('MoneyDeposited'),
  data: z.object({
    accountId: AccountId,
    amount: Amount,
    balanceBefore: z.number().int().nonnegative(),
    balanceAfter: z.number().int().nonnegative(),
    reference: Reference.optional(),
  }),
});
export const MoneyWithdrawn = z.object({
  type: z.literal('MoneyWithdrawn'),
  data: z.object({
    accountId: AccountId,
    amount: Amount,
    balanceAfter: z.number().int().nonnegative(),
    reference: Reference.optional(),
  }),
});
export const AccountClosed = z.object({
  type: z.literal('AccountClosed'),
  data: z.object({ accountId: AccountId }),
});
export const AccountEvent = z.discriminatedUnion('type', [
  AccountOpened,
  MoneyDeposited,
  MoneyWithdrawn,
  AccountClosed,
]);
export type AccountEvent = z.infer<typeof AccountEvent>;
export const accountEventTypes = AccountEvent.options.map((o) => o.shape.type.value);

// ── Older versions ──────────────────────────────────────────────────────────
// What earlier releases wrote, kept as they were: stored events are never rewritten, and reading
// upcasts them. Never change a schema here; a new shape is a new version.

/** MoneyDeposited version 1: without `balanceBefore`. */
export const MoneyDepositedV1 = z.object({
  type: z.literal('MoneyDeposited'),
  data: z.object({
    accountId: AccountId,
    amount: Amount,
    balanceAfter: z.number().int().nonnegative(),
    reference: Reference.optional(),
  }),
});

export const moneyDepositedHistory = eventHistory(MoneyDepositedV1).to(MoneyDeposited, (v1) => ({
  ...v1,
  // What the balance was is in the event itself. A version 1 deposit with less after it than its
  // amount (no release wrote one) gives a negative balance, which version 2 refuses: it parks.
  balanceBefore: v1.balanceAfter - v1.amount,
}));

/** How account events are read back (upcast to the current version) and which version is written. */
export const accountEvents = eventVersions(AccountEvent, [moneyDepositedHistory]);

// ── State ───────────────────────────────────────────────────────────────────
export type AccountState =
  | { status: 'none' }
  | { status: 'open' | 'closed'; owner: string; ownerId: string; currency: string; balance: number };

/** The state as snapshots store it (checked on load, and before a state is stored). */
export const AccountStateSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('none') }),
  z.object({
    status: z.enum(['open', 'closed']),
    owner: z.string(),
    ownerId: z.string(),
    currency: z.string(),
    balance: z.number().int().nonnegative(),
  }),
]) satisfies z.ZodType<AccountState>;

export type AccountErrorCode =
  | 'account_not_found'
  | 'account_already_exists'
  | 'account_closed'
  | 'insufficient_funds'
  | 'currency_mismatch'
  | 'balance_not_zero'
  | 'balance_limit_exceeded'
  | 'not_account_owner';

const reject = (
  code: AccountErrorCode,
  message: string,
  kind: 'rejected' | 'not_found' | 'conflict' | 'forbidden' = 'rejected',
) => new DomainError(code, kind, message);

const requireOpen = (state: AccountState, currency: string | undefined) => {
  if (state.status === 'none') throw reject('account_not_found', 'account does not exist', 'not_found');
  if (state.status === 'closed') throw reject('account_closed', 'account is closed');
  if (currency !== undefined && currency !== state.currency)
    throw reject('currency_mismatch', `account holds ${state.currency}, not ${currency}`);
  return state;
};

/** Only the owner, or an admin, may take money out or close the account. */
const requireOwner = <S extends { ownerId: string }>(state: S, by: Actor) => {
  if (!actsFor(by, state.ownerId))
    throw reject('not_account_owner', 'only the account owner may do this', 'forbidden');
  return state;
};

export const decide = (command: AccountCommand, state: AccountState): AccountEvent[] => {
  switch (command.type) {
    case 'OpenAccount': {
      if (state.status !== 'none')
        throw reject('account_already_exists', 'account already exists', 'conflict');
      const { accountId, owner, currency, by } = command;
      return [{ type: 'AccountOpened', data: { accountId, owner, ownerId: by.subject, currency } }];
    }
    case 'DepositMoney': {
      const { balance } = requireOpen(state, command.currency);
      const balanceAfter = balance + command.amount;
      if (balanceAfter > MAX_BALANCE)
        throw reject('balance_limit_exceeded', `balance may not exceed ${MAX_BALANCE}`);
      const { accountId, amount, reference } = command;
      return [
        {
          type: 'MoneyDeposited',
          data: { accountId, amount, balanceBefore: balance, balanceAfter, reference },
        },
      ];
    }
    case 'WithdrawMoney': {
      const { balance } = requireOwner(requireOpen(state, command.currency), command.by);
      if (command.amount > balance)
        throw reject('insufficient_funds', `balance ${balance} is less than ${command.amount}`);
      const { accountId, amount, reference } = command;
      const balanceAfter = balance - amount;
      return [{ type: 'MoneyWithdrawn', data: { accountId, amount, balanceAfter, reference } }];
    }
    case 'CloseAccount': {
      const { balance } = requireOwner(requireOpen(state, undefined), command.by);
      if (balance !== 0)
        throw reject('balance_not_zero', `balance is ${balance}; only an empty account can close`);
      return [{ type: 'AccountClosed', data: { accountId: command.accountId } }];
    }
  }
};

export const evolve = (state: AccountState, event: AccountEvent): AccountState => {
  switch (event.type) {
    case 'AccountOpened':
      return {
        status: 'open',
        owner: event.data.owner,
        ownerId: event.data.ownerId,
        currency: event.data.currency,
        balance: 0,
      };
    case 'MoneyDeposited':
    case 'MoneyWithdrawn':
      return state.status === 'none' ? state : { ...state, balance: event.data.balanceAfter };
    case 'AccountClosed':
      return state.status === 'none' ? state : { ...state, status: 'closed' };
  }
};

export const accountDecider: Decider<AccountCommand, AccountEvent, AccountState> = {
  initialState: { status: 'none' },
  decide,
  evolve,
};

export const accountAggregate: Aggregate<AccountCommand, AccountEvent, AccountState> = {
  category: 'account',
  decider: accountDecider,
  ...accountEvents,
  // A cold account reads at most 100 events after its snapshot. Bump the version when the fold
  // changes in a way AccountStateSchema and evolve's own text do not show (domain/shared/snapshot-policy.ts).
  snapshot: { every: 100, version: 1, schema: AccountStateSchema },
};
