import { describe, expect, it } from 'vitest';
import { createEmbeddedReadStore } from '../../infra/read-store/embedded-read-store.js';
import { applyEvents, projectionSpec, readModel } from '../engine/testing/projection-spec.js';
import { testTime } from '../engine/testing/recorded-events.js';
import { accountsProjection } from './accounts-projection.js';
import { recordedAccountEvents as recordedEvents } from './testing/recorded-account-events.js';

const opened = {
  streamId: 'account-a',
  type: 'AccountOpened',
  data: { accountId: 'a', owner: 'Ada', ownerId: 'ada', currency: 'EUR' },
};
const deposited = (amount: number, balanceAfter: number) => ({
  streamId: 'account-a',
  type: 'MoneyDeposited',
  data: { accountId: 'a', amount, balanceBefore: balanceAfter - amount, balanceAfter, reference: 'r1' },
});
const withdrawn = (amount: number, balanceAfter: number) => ({
  streamId: 'account-a',
  type: 'MoneyWithdrawn',
  data: { accountId: 'a', amount, balanceAfter },
});
const closed = { streamId: 'account-a', type: 'AccountClosed', data: { accountId: 'a' } };

const account = (fields: Record<string, unknown>) => ({
  _id: 'a',
  accountId: 'a',
  owner: 'Ada',
  ownerId: 'ada',
  currency: 'EUR',
  balance: 0,
  status: 'open',
  revision: 0,
  openedAt: testTime(1),
  updatedAt: testTime(1),
  ...fields,
});

describe('accounts projection', () => {
  const spec = projectionSpec(accountsProjection());

  it('AccountOpened: an open account with a zero balance', () =>
    spec.given(recordedEvents([opened])).then({ accounts: [account({})] }));

  it('MoneyDeposited: the balance the event leaves, and the revision it reflects', () =>
    spec
      .given(recordedEvents([opened, deposited(500, 500)]))
      .then({ accounts: [account({ balance: 500, revision: 1, updatedAt: testTime(2) })] }));

  it('MoneyWithdrawn: the balance the event leaves', () =>
    spec
      .given(recordedEvents([opened, deposited(500, 500), withdrawn(200, 300)]))
      .then({ accounts: [account({ balance: 300, revision: 2, updatedAt: testTime(3) })] }));

  it('AccountClosed: closed, balance kept', () =>
    spec
      .given(recordedEvents([opened, deposited(500, 500), withdrawn(500, 0), closed]))
      .then({ accounts: [account({ status: 'closed', revision: 3, updatedAt: testTime(4) })] }));

  it('keeps accounts apart', () =>
    spec
      .given(
        recordedEvents([
          opened,
          {
            streamId: 'account-b',
            type: 'AccountOpened',
            data: { accountId: 'b', owner: 'Bo', ownerId: 'bo', currency: 'JPY' },
          },
          deposited(7, 7),
        ]),
      )
      .then({
        accounts: [
          account({ balance: 7, revision: 1, updatedAt: testTime(3) }),
          account({
            _id: 'b',
            accountId: 'b',
            owner: 'Bo',
            ownerId: 'bo',
            currency: 'JPY',
            openedAt: testTime(2),
            updatedAt: testTime(2),
          }),
        ],
      }));

  it('rejects event data the domain schema refuses (the projector parks it)', () =>
    spec.given(recordedEvents([opened, deposited(-5, 500)])).thenThrows(/amount must be positive/));

  it('rejects an event filed under another account’s stream', () =>
    spec.given(recordedEvents([{ ...opened, streamId: 'account-b' }])).thenThrows(/is in stream account-b/));

  it('rejects an event without a valid occurredAt', () =>
    spec.given(recordedEvents([{ ...opened, occurredAt: 'yesterday' }])).thenThrows(/datetime/i));

  it('replaying the same events again changes nothing', async () => {
    const projection = accountsProjection();
    const events = recordedEvents([opened, deposited(500, 500), withdrawn(200, 300), closed]);
    const once = createEmbeddedReadStore();
    await applyEvents(once, projection, events);
    const twice = createEmbeddedReadStore();
    await applyEvents(twice, projection, events);
    await applyEvents(twice, projection, events);
    expect(await readModel(twice, projection)).toEqual(await readModel(once, projection));
  });

  it('an older or repeated event of the same stream, delivered late, is a no-op', async () => {
    const projection = accountsProjection();
    const [open, deposit, withdraw] = recordedEvents([opened, deposited(500, 500), withdrawn(200, 300)]);
    const readStore = createEmbeddedReadStore();
    await applyEvents(readStore, projection, [open!, deposit!, withdraw!]);
    const before = await readModel(readStore, projection);
    await applyEvents(readStore, projection, [deposit!, open!, withdraw!]);
    expect(await readModel(readStore, projection)).toEqual(before);
    expect(before.accounts).toEqual([account({ balance: 300, revision: 2, updatedAt: testTime(3) })]);
  });
});
