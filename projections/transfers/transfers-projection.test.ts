import { describe, expect, it } from 'vitest';
import { createEmbeddedReadStore } from '../../infra/read-store/embedded-read-store.js';
import { applyEvents, projectionSpec, readModel } from '../engine/testing/projection-spec.js';
import { recordedEvents, testTime } from '../engine/testing/recorded-events.js';
import { transfersProjection } from './transfers-projection.js';

const streamId = 'transfer-t1';
const requested = {
  streamId,
  type: 'TransferRequested',
  data: {
    transferId: 't1',
    fromAccountId: 'a',
    toAccountId: 'b',
    amount: 250,
    deadline: '2030-01-01T00:00:00.000Z',
    requestedBy: { subject: 'ada', roles: [] },
  },
};
const debited = {
  streamId,
  type: 'TransferDebited',
  data: { transferId: 't1', fromAccountId: 'a', amount: 250, currency: 'EUR' },
};
const completed = {
  streamId,
  type: 'TransferCompleted',
  data: { transferId: 't1', toAccountId: 'b', amount: 250 },
};
const compensated = {
  streamId,
  type: 'TransferCompensated',
  data: { transferId: 't1', fromAccountId: 'a', amount: 250 },
};
const failed = (reason: string, refundRefused?: string) => ({
  streamId,
  type: 'TransferFailed',
  data: { transferId: 't1', reason, ...(refundRefused && { refundRefused }) },
});

const transfer = (fields: Record<string, unknown>) => ({
  _id: 't1',
  transferId: 't1',
  fromAccountId: 'a',
  toAccountId: 'b',
  amount: 250,
  requestedBy: 'ada',
  status: 'pending',
  revision: 0,
  createdAt: testTime(1),
  updatedAt: testTime(1),
  ...fields,
});

describe('transfers projection', () => {
  const spec = projectionSpec(transfersProjection());

  it('TransferRequested: a pending transfer', () =>
    spec.given(recordedEvents([requested])).then({ transfers: [transfer({})] }));

  it('TransferDebited: still pending, one revision on', () =>
    spec
      .given(recordedEvents([requested, debited]))
      .then({ transfers: [transfer({ revision: 1, updatedAt: testTime(2) })] }));

  it('TransferCompleted: completed', () =>
    spec
      .given(recordedEvents([requested, debited, completed]))
      .then({ transfers: [transfer({ status: 'completed', revision: 2, updatedAt: testTime(3) })] }));

  it('TransferFailed after a refund: failed, with the reason', () =>
    spec.given(recordedEvents([requested, debited, compensated, failed('account_closed')])).then({
      transfers: [
        transfer({ status: 'failed', reason: 'account_closed', revision: 3, updatedAt: testTime(4) }),
      ],
    }));

  it('TransferFailed with a refused refund: records the refusal', () =>
    spec.given(recordedEvents([requested, debited, failed('account_closed', 'account_closed')])).then({
      transfers: [
        transfer({
          status: 'failed',
          reason: 'account_closed',
          refundRefused: 'account_closed',
          revision: 2,
          updatedAt: testTime(3),
        }),
      ],
    }));

  it('rejects an event the domain schema refuses (the projector parks it)', () =>
    spec
      .given(recordedEvents([{ ...requested, data: { ...requested.data, amount: 0 } }]))
      .thenThrows(/amount/));

  it('rejects an event of a version newer than this code (the projector parks it)', () =>
    spec
      .given(
        recordedEvents([requested]).map((event) => ({
          ...event,
          metadata: { ...event.metadata, schemaVersion: 2 },
        })),
      )
      .thenThrows(/TransferRequested \(stream transfer-t1, revision 0\) is version 2, newer than this code/));

  it('rejects an event filed under another transfer’s stream', () =>
    spec
      .given(recordedEvents([{ ...requested, streamId: 'transfer-t2' }]))
      .thenThrows(/is in stream transfer-t2/));

  it('an older or repeated event, delivered late, is a no-op', async () => {
    const projection = transfersProjection();
    const events = recordedEvents([requested, debited, completed]);
    const readStore = createEmbeddedReadStore();
    await applyEvents(readStore, projection, events);
    const before = await readModel(readStore, projection);
    await applyEvents(readStore, projection, [...events].reverse());
    expect(await readModel(readStore, projection)).toEqual(before);
  });
});
