import { afterEach, describe, expect, it } from 'vitest';
import { type InProcessApp, startInProcessApp } from '../../app/testing/in-process-app.js';
import { startTransferProcess, type TransferProcess } from '../../commands/transfers/transfer-process.js';
import { appendV1Events, v1Events } from '../../domain/accounts/testing/v1-events.js';
import { positionToJson } from '../../infra/event-store/event-store.js';
import { parkedEvents } from '../../projections/engine/parked-events.js';

/**
 * End to end on a store an older release left (domain/accounts/testing/v1-events.json: every event
 * at version 1, deposits without `balanceBefore`): the projectors build the read models from it,
 * the read API answers with the current shape, the command pipeline and the transfer process fold
 * it to the right balances, and the stored rows stay as they were.
 */
let running: InProcessApp | undefined;
let transfers: TransferProcess | undefined;
afterEach(async () => {
  await transfers?.stop();
  transfers = undefined;
  await running?.stop();
  running = undefined;
});

const start = async () => {
  const app = await startInProcessApp();
  running = app;
  await appendV1Events(app.eventStore);
  const [last] = await app.eventStore.readStream('account-ada', { fromRevision: 3 });
  if (!last) throw new Error('the fixture rows were not appended');
  return { ...app, seeded: positionToJson(last.position) };
};

const read = async (url: string, position: string) => {
  const response = await running!.app.inject({ url, headers: { 'x-min-position': position } });
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
};

const post = async (url: string, payload: object, headers: Record<string, string> = {}) => {
  const response = await running!.app.inject({ method: 'POST', url, payload, headers });
  return { status: response.statusCode, body: response.json() };
};

describe('a store an older release left (version 1 deposits)', () => {
  it('projects into the read models the read API answers with, in the current shape', async () => {
    const { seeded, readStore } = await start();
    expect(await read('/accounts/ada', seeded)).toMatchObject({
      owner: 'Ada Lovelace',
      balance: 130_500,
      revision: 3,
      openedAt: '2026-02-02T09:00:00.000Z',
    });
    expect(await read('/accounts/bob', seeded)).toMatchObject({ balance: 2_500, revision: 1 });
    expect((await read('/accounts/ada/transactions?limit=10', seeded)).items).toEqual([
      {
        revision: 1,
        kind: 'deposit',
        amount: 150_000,
        balanceBefore: 0,
        balanceAfter: 150_000,
        reference: 'salary',
        at: '2026-02-02T09:01:00.000Z',
      },
      {
        revision: 2,
        kind: 'withdrawal',
        amount: 20_000,
        balanceBefore: 150_000,
        balanceAfter: 130_000,
        reference: null,
        at: '2026-02-03T12:30:00.000Z',
      },
      {
        revision: 3,
        kind: 'deposit',
        amount: 500,
        balanceBefore: 130_000,
        balanceAfter: 130_500,
        reference: 'refund-17',
        at: '2026-02-05T17:45:00.000Z',
      },
    ]);
    expect(await parkedEvents(readStore).list()).toEqual([]);
  });

  it('commands and the transfer process decide on the balances it holds; its rows stay as stored', async () => {
    const { eventStore, handle, logger } = await start();
    transfers = startTransferProcess({ eventStore, handle, logger });

    const overdraft = await post('/accounts/ada/withdrawals', { amount: 130_501 });
    expect(overdraft).toMatchObject({
      status: 422,
      body: { type: 'urn:eventfold:problem:insufficient-funds' },
    });
    // Bob's whole balance is one version 1 deposit: the transfer can move all of it, and no more.
    const tooMuch = await post(
      '/transfers',
      { transferId: 't-2501', fromAccountId: 'bob', toAccountId: 'ada', amount: 2_501 },
      { prefer: 'wait=5' },
    );
    expect(tooMuch.body).toMatchObject({ status: 'failed', reason: 'insufficient_funds' });
    const all = await post(
      '/transfers',
      { transferId: 't-2500', fromAccountId: 'bob', toAccountId: 'ada', amount: 2_500 },
      { prefer: 'wait=5' },
    );
    expect(all.body).toMatchObject({ status: 'completed' });

    const history = (await read('/accounts/ada/transactions?limit=10', all.body.position)).items;
    expect(history.at(-1)).toMatchObject({
      kind: 'deposit',
      amount: 2_500,
      balanceBefore: 130_500,
      balanceAfter: 133_000,
      reference: 't-2500',
    });
    const ada = await eventStore.readStream('account-ada');
    expect(ada.at(-1)?.metadata.schemaVersion).toBe(2);
    const stored = [...ada, ...(await eventStore.readStream('account-bob'))]
      .filter((event) => v1Events.some((row) => row.metadata.eventId === event.metadata.eventId))
      .map(({ streamId, type, data, metadata }) => ({ streamId, type, data, metadata }));
    expect(stored).toEqual(expect.arrayContaining(v1Events));
    expect(stored).toHaveLength(v1Events.length);
  });

  it('a deposit of a version newer than this code parks, with its stream behind it; commands on it are refused', async () => {
    const { eventStore, readStore, seeded } = await start();
    const newer = await eventStore.append(
      'account-bob',
      [
        {
          type: 'MoneyDeposited',
          data: { accountId: 'bob', amount: 100, balanceBefore: 2_500, balanceAfter: 2_600, fee: 0 },
          metadata: {
            eventId: 'from-a-newer-release',
            correlationId: 'newer',
            causationId: 'newer',
            occurredAt: '2027-01-01T00:00:00.000Z',
            schemaVersion: 3,
          },
        },
      ],
      { expectedRevision: 1 },
    );
    const after = positionToJson(newer.position);
    expect(await read('/accounts/bob', after)).toMatchObject({ balance: 2_500, revision: 1 });
    expect((await read('/accounts/bob/transactions', after)).items).toHaveLength(1);
    const parked = await parkedEvents(readStore).list();
    expect(parked.map((doc) => [doc.projection, doc.event.streamId, doc.event.revision])).toEqual([
      ['account-transactions', 'account-bob', 2],
      ['accounts', 'account-bob', 2],
    ]);
    for (const doc of parked)
      expect(doc.error.message).toMatch(/MoneyDeposited \(stream account-bob, revision 2\) is version 3/);
    // Other accounts are read as ever.
    expect(await read('/accounts/ada', seeded)).toMatchObject({ balance: 130_500 });

    const refused = await post('/accounts/bob/deposits', { amount: 1 });
    expect(refused.status).toBe(500);
    expect(refused.body).toMatchObject({
      type: 'urn:eventfold:problem:stored-event-version-unknown',
      detail: expect.stringMatching(
        /^MoneyDeposited \(stream account-bob, revision 2\) is version 3, newer than this code/,
      ),
    });
    expect(await eventStore.readStream('account-bob')).toHaveLength(3);
  });
});
