import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stateFrom } from '../shared/decider.js';
import { InvalidEventError, UnknownEventVersionError } from '../shared/event-versions.js';
import { MAX_AMOUNT, MAX_BALANCE } from '../shared/money.js';
import { accountAggregate, accountEvents, MoneyDeposited, MoneyDepositedV1 } from './account.js';
import { v1Events } from './testing/v1-events.js';

/**
 * The worked example of event versions: MoneyDeposited version 2 records `balanceBefore`;
 * version 1 deposits (what the release before it stored, testing/v1-events.json) read as
 * version 2, with the balance they started from worked out from their own data.
 */
const stored = (data: unknown, schemaVersion: number) => ({
  type: 'MoneyDeposited',
  data,
  metadata: { schemaVersion },
  streamId: 'account-ada',
  revision: 1,
});

/** A version 1 deposit, any the version 1 schema accepts. */
const v1Deposit = fc.record(
  {
    accountId: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    amount: fc.integer({ min: 1, max: MAX_AMOUNT }),
    balanceAfter: fc.integer({ min: 0, max: MAX_BALANCE }),
    reference: fc.string({ minLength: 1, maxLength: 200 }),
  },
  { requiredKeys: ['accountId', 'amount', 'balanceAfter'] },
);

describe('Account events: versions', () => {
  it('writes MoneyDeposited at version 2, every other type at 1', () =>
    expect(
      ['AccountOpened', 'MoneyDeposited', 'MoneyWithdrawn', 'AccountClosed'].map(accountEvents.eventVersion),
    ).toEqual([1, 2, 1, 1]));

  it('the stores an older release left fold into the balances it showed', () => {
    const stream = (id: string) => v1Events.filter((event) => event.streamId === id);
    expect(stateFrom(accountAggregate, stream('account-ada'))).toEqual({
      status: 'open',
      owner: 'Ada Lovelace',
      ownerId: 'ada',
      currency: 'EUR',
      balance: 130_500,
    });
    expect(stateFrom(accountAggregate, stream('account-bob'))).toMatchObject({ balance: 2_500 });
  });

  it('a version 1 deposit reads as version 2, with the balance it started from', () => {
    const [, deposit] = v1Events;
    expect(accountAggregate.parseEvent({ ...deposit!, revision: 1 })).toEqual({
      type: 'MoneyDeposited',
      data: {
        accountId: 'ada',
        amount: 150_000,
        balanceBefore: 0,
        balanceAfter: 150_000,
        reference: 'salary',
      },
    });
  });

  it('a version 2 deposit reads as it is', () => {
    const data = { accountId: 'ada', amount: 5, balanceBefore: 10, balanceAfter: 15 };
    expect(accountAggregate.parseEvent(stored(data, 2)).data).toEqual(data);
  });

  it('upcaster 1 → 2: every version 1 deposit a release could write validates as version 2', () =>
    fc.assert(
      fc.property(
        v1Deposit.filter((v1) => v1.balanceAfter >= v1.amount),
        (v1) => {
          expect(MoneyDepositedV1.safeParse({ type: 'MoneyDeposited', data: v1 }).success).toBe(true);
          const event = accountAggregate.parseEvent(stored(v1, 1));
          expect(MoneyDeposited.parse(event)).toEqual(event);
          expect(event.data).toEqual({ ...v1, balanceBefore: v1.balanceAfter - v1.amount });
        },
      ),
    ));

  it('upcaster 1 → 2: any other version 1 deposit is refused by version 2, never read wrong', () =>
    fc.assert(
      fc.property(
        v1Deposit.filter((v1) => v1.balanceAfter < v1.amount),
        (v1) => {
          const read = () => accountAggregate.parseEvent(stored(v1, 1));
          expect(read).toThrow(InvalidEventError);
          expect(read).toThrow(
            /invalid MoneyDeposited \(stream account-ada, revision 1\) \(version 2\).*balanceBefore/s,
          );
        },
      ),
    ));

  it('a deposit newer than this code (version 3) is refused, naming it', () =>
    expect(() =>
      accountAggregate.parseEvent(
        stored({ accountId: 'ada', amount: 5, balanceBefore: 0, balanceAfter: 5, fee: 1 }, 3),
      ),
    ).toThrow(UnknownEventVersionError));

  it('every event type with older versions has its upcasters checked above', () =>
    expect([...accountEvents.histories.keys()]).toEqual(['MoneyDeposited']));
});
