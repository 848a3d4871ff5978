import { describe, expect, it } from 'vitest';
import { createEmbeddedReadStore } from '../../infra/read-store/embedded-read-store.js';
import { applyEvents, projectionSpec, readModel } from '../engine/testing/projection-spec.js';
import { testTime } from '../engine/testing/recorded-events.js';
import { accountTransactionsProjection } from './account-transactions-projection.js';
import { atVersion, recordedAccountEvents as recordedEvents } from './testing/recorded-account-events.js';

const stream = 'account-a';
const opened = {
  streamId: stream,
  type: 'AccountOpened',
  data: { accountId: 'a', owner: 'Ada', ownerId: 'ada', currency: 'EUR' },
};
const deposited = {
  streamId: stream,
  type: 'MoneyDeposited',
  data: { accountId: 'a', amount: 500, balanceBefore: 0, balanceAfter: 500, reference: 'invoice-7' },
};
const withdrawn = {
  streamId: stream,
  type: 'MoneyWithdrawn',
  data: { accountId: 'a', amount: 200, balanceAfter: 300 },
};

describe('account-transactions projection', () => {
  const projection = accountTransactionsProjection();
  const spec = projectionSpec(projection);

  it('reads only deposits and withdrawals', () => {
    expect(projection.eventTypes).toEqual(['MoneyDeposited', 'MoneyWithdrawn']);
  });

  it('MoneyDeposited: a deposit, keyed by account and revision, with its reference', () =>
    spec.given(recordedEvents([opened, deposited]).slice(1)).then({
      account_transactions: [
        {
          _id: 'a:1',
          accountId: 'a',
          revision: 1,
          kind: 'deposit',
          amount: 500,
          balanceBefore: 0,
          balanceAfter: 500,
          reference: 'invoice-7',
          at: testTime(2),
        },
      ],
    }));

  it('MoneyWithdrawn: a withdrawal; no reference is null', () =>
    spec.given(recordedEvents([opened, deposited, withdrawn]).slice(1)).then({
      account_transactions: [
        expect.objectContaining({ _id: 'a:1', kind: 'deposit' }),
        {
          _id: 'a:2',
          accountId: 'a',
          revision: 2,
          kind: 'withdrawal',
          amount: 200,
          balanceBefore: 500,
          balanceAfter: 300,
          reference: null,
          at: testTime(3),
        },
      ],
    }));

  it('MoneyDeposited version 1 (no balanceBefore): the balance before, from the balance after and the amount', () => {
    const { balanceBefore: _, ...v1 } = deposited.data;
    return spec
      .given(
        atVersion(recordedEvents([opened, { ...deposited, data: { ...v1, balanceAfter: 700 } }]).slice(1), 1),
      )
      .then({
        account_transactions: [
          expect.objectContaining({ _id: 'a:1', amount: 500, balanceBefore: 200, balanceAfter: 700 }),
        ],
      });
  });

  it('a deposit of a version newer than this code: refused, naming it (the projector parks it)', () =>
    spec
      .given(atVersion(recordedEvents([opened, deposited]).slice(1), 3))
      .thenThrows(
        /MoneyDeposited \(stream account-a, revision 1\) is version 3, newer than this code reads/,
      ));

  it('refuses an event type it does not read', () =>
    spec.given(recordedEvents([opened])).thenThrows(/does not read AccountOpened/));

  it('rejects data the domain schema refuses', () =>
    spec
      .given(recordedEvents([{ ...withdrawn, data: { ...withdrawn.data, balanceAfter: -1 } }]))
      .thenThrows(/balanceAfter|>=0|too small/i));

  it('replaying, twice or out of order, gives the same history', async () => {
    const events = recordedEvents([opened, deposited, withdrawn]).slice(1);
    const once = createEmbeddedReadStore();
    await applyEvents(once, projection, events);
    const again = createEmbeddedReadStore();
    await applyEvents(again, projection, [...events, ...events.toReversed()]);
    expect(await readModel(again, projection)).toEqual(await readModel(once, projection));
  });
});
