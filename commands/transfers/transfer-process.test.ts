import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountAggregate } from '../../domain/accounts/account.js';
import { transferAggregate } from '../../domain/transfers/transfer.js';
import type { EventStore } from '../../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { type Faults, severable, withFaults } from '../../infra/event-store/testing/fault-injector.js';
import { createCommandHandler } from '../pipeline/handle-command.js';
import { bank, bankOwner, silent } from './testing/bank.js';
import {
  legKey,
  startTransferProcess,
  type TransferProcess,
  type TransferProcessConfig,
  type TransferProcessLease,
} from './transfer-process.js';

let store: EventStore;
let b: ReturnType<typeof bank>;
const running: TransferProcess[] = [];

const fast = { retryBackoffMs: 2, retryMaxMs: 20, checkpointIntervalMs: 10 };

/** A transfer process over `eventStore` (faulty or severable in some tests), with its own pipeline. */
const start = (
  eventStore: EventStore = store,
  {
    config,
    ...options
  }: {
    name?: string;
    now?: () => number;
    lease?: TransferProcessLease;
    config?: Partial<TransferProcessConfig>;
  } = {},
) => {
  const process = startTransferProcess({
    eventStore,
    handle: createCommandHandler({ eventStore, maxRetries: 20, backoffMs: 1 }),
    logger: silent,
    config: { ...fast, ...config },
    ...options,
  });
  running.push(process);
  return process;
};

const soon = (ms: number) => new Date(Date.now() + ms);

beforeEach(async () => {
  store = createMemoryEventStore();
  b = bank(store);
  await b.open('a', 100);
  await b.open('b', 0);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
  b.outcomes.stop();
});

describe('transfer process', () => {
  it('withdraws, deposits and completes, each leg referencing the transfer', async () => {
    start();
    await b.request('t1', 'a', 'b', 30);
    expect(await b.settled('t1')).toMatchObject({ status: 'completed', currency: 'EUR' });
    expect(await b.balance('a')).toBe(70);
    expect(await b.balance('b')).toBe(30);
    expect(await b.legs('t1', ['a', 'b'])).toEqual([
      { accountId: 'a', type: 'MoneyWithdrawn', amount: 30, leg: 'withdraw' },
      { accountId: 'b', type: 'MoneyDeposited', amount: 30, leg: 'deposit' },
    ]);
  });

  it('fails a transfer out of an account the asker does not own, moving no money', async () => {
    start();
    await b.request('t1', 'a', 'b', 30, { as: { subject: 'mallory', roles: [] } });
    expect(await b.settled('t1')).toMatchObject({ status: 'failed', reason: 'not_account_owner' });
    expect(await b.balance('a')).toBe(100);
    expect(await b.balance('b')).toBe(0);
  });

  it("acts for whoever asked: each leg records them as its actor, and an admin may move anyone's money", async () => {
    start();
    await b.request('t1', 'a', 'b', 30, { as: { subject: 'ops', roles: ['admin'] } });
    expect(await b.settled('t1')).toMatchObject({ status: 'completed' });
    const legs = [...(await b.accountEvents('a')), ...(await b.accountEvents('b'))].filter((event) =>
      event.metadata.idempotencyKey?.startsWith('transfer:t1:'),
    );
    expect(legs.map((event) => event.metadata.actor)).toEqual(['ops', 'ops']);
    expect((await b.transferEvents('t1')).every((event) => event.metadata.actor === 'ops')).toBe(true);
  });

  it('carries one correlation id through every event, and chains causation event → command → event', async () => {
    start();
    await b.request('t1', 'a', 'b', 30, { correlationId: 'http-req-1' });
    await b.settled('t1');
    const transfer = await b.transferEvents('t1');
    const [withdrawn] = (await b.accountEvents('a')).filter((e) => e.type === 'MoneyWithdrawn');
    const [deposited] = (await b.accountEvents('b')).filter((e) => e.type === 'MoneyDeposited');
    const chain = [transfer[0], withdrawn, transfer[1], transfer[2], deposited, transfer[3]];
    expect(chain.map((e) => e?.type)).toEqual([
      'TransferRequested',
      'MoneyWithdrawn',
      'TransferDebited',
      'TransferLegChosen',
      'MoneyDeposited',
      'TransferCompleted',
    ]);
    for (const event of chain) expect(event?.metadata.correlationId).toBe('http-req-1');
    expect(transfer[0]?.metadata.causationId).toBe('http-req-1');
    for (let i = 1; i < chain.length; i++)
      expect(chain[i]?.metadata.causationId).toBe(chain[i - 1]?.metadata.eventId);
  });

  it('fails a transfer whose withdrawal is refused, touching no account', async () => {
    start();
    await b.request('t1', 'a', 'b', 101);
    expect(await b.settled('t1')).toMatchObject({ status: 'failed', reason: 'insufficient_funds' });
    expect(await b.legs('t1', ['a', 'b'])).toEqual([]);
    expect(await b.balance('a')).toBe(100);
  });

  it.each([
    ['a closed target', 'account_closed', async () => void (await b.close('b'))],
    ['a missing target', 'account_not_found', async () => {}],
    ['a target in another currency', 'currency_mismatch', async () => b.open('usd', 0, 'USD')],
  ])('fails a transfer to %s before the source is touched', async (_name, reason, arrange) => {
    await arrange();
    const target = reason === 'account_not_found' ? 'nobody' : reason === 'currency_mismatch' ? 'usd' : 'b';
    start();
    await b.request('t1', 'a', target, 10);
    expect(await b.settled('t1')).toMatchObject({ status: 'failed', reason });
    expect(await b.legs('t1', ['a', target])).toEqual([]);
  });

  it('fails a transfer from a missing source', async () => {
    start();
    await b.request('t1', 'nobody', 'b', 10);
    expect(await b.settled('t1')).toMatchObject({ status: 'failed', reason: 'account_not_found' });
  });

  it('refunds the source when the deposit is refused after the withdrawal', async () => {
    // The target closes between the check before the withdrawal and the deposit.
    const closing = withFaults(store, {
      append: (streamId, events) => {
        if (streamId === 'account-a' && events[0]?.type === 'MoneyWithdrawn') void b.close('b');
        return undefined;
      },
    });
    start(closing);
    await b.request('t1', 'a', 'b', 30);
    expect(await b.settled('t1')).toMatchObject({
      status: 'failed',
      reason: 'account_closed',
      compensated: true,
    });
    expect(await b.balance('a')).toBe(100);
    expect(await b.legs('t1', ['a', 'b'])).toEqual([
      { accountId: 'a', type: 'MoneyWithdrawn', amount: 30, leg: 'withdraw' },
      { accountId: 'a', type: 'MoneyDeposited', amount: 30, leg: 'refund' },
    ]);
    expect((await b.transferEvents('t1')).map((e) => e.type)).toEqual([
      'TransferRequested',
      'TransferDebited',
      'TransferLegChosen',
      'TransferLegChosen',
      'TransferCompensated',
      'TransferFailed',
    ]);
  });

  it('records a refund the source refuses, leaving the stranded amount visible', async () => {
    // Given a debited transfer whose source emptied and closed, and whose target closed, meanwhile.
    await b.open('src', 30);
    await b.request('t1', 'src', 'b', 30);
    await b.handle(
      accountAggregate,
      'src',
      { type: 'WithdrawMoney', accountId: 'src', amount: 30, reference: 't1', by: bankOwner },
      {
        correlationId: 'corr-t1',
        causationId: 'x',
        idempotency: { key: legKey('t1', 'withdraw'), requestHash: 'h' },
      },
    );
    await b.handle(
      transferAggregate,
      't1',
      { type: 'RecordDebit', transferId: 't1', currency: 'EUR' },
      { correlationId: 'corr-t1', causationId: 'x' },
    );
    await b.close('src');
    await b.close('b');

    start();
    expect(await b.settled('t1')).toMatchObject({
      status: 'failed',
      reason: 'account_closed',
      compensated: false,
    });
    expect((await b.transferEvents('t1')).at(-1)?.data).toEqual({
      transferId: 't1',
      reason: 'account_closed',
      refundRefused: 'account_closed',
    });
  });

  it('finishes a refund that landed unrecorded instead of depositing as well', async () => {
    // Given a debited transfer whose deposit was refused and whose refund landed, and then the
    // process died before recording the compensation; meanwhile the target would take the money.
    const byTransfer = { correlationId: 'corr-t1', causationId: 'x' };
    const legHandled = (leg: 'withdraw' | 'refund', type: 'WithdrawMoney' | 'DepositMoney') =>
      b.handle(
        accountAggregate,
        'a',
        type === 'WithdrawMoney'
          ? { type, accountId: 'a', amount: 30, reference: 't1', by: bankOwner }
          : { type, accountId: 'a', amount: 30, reference: 't1' },
        { ...byTransfer, idempotency: { key: legKey('t1', leg), requestHash: 'h' } },
      );
    await b.request('t1', 'a', 'b', 30);
    await legHandled('withdraw', 'WithdrawMoney');
    await b.handle(
      transferAggregate,
      't1',
      { type: 'RecordDebit', transferId: 't1', currency: 'EUR' },
      byTransfer,
    );
    await legHandled('refund', 'DepositMoney');

    start();
    expect(await b.settled('t1')).toMatchObject({ status: 'failed', compensated: true });
    expect(await b.balance('a')).toBe(100);
    expect(await b.balance('b')).toBe(0);
    expect(await b.legs('t1', ['a', 'b'])).toEqual([
      { accountId: 'a', type: 'MoneyWithdrawn', amount: 30, leg: 'withdraw' },
      { accountId: 'a', type: 'MoneyDeposited', amount: 30, leg: 'refund' },
    ]);
  });

  describe('deadline', () => {
    const failing = (streamId: string): Faults => ({
      append: (target) => (target === streamId ? 'fail' : undefined),
    });

    it('fails a transfer whose withdrawal never got through', async () => {
      start(withFaults(store, failing('account-a')));
      await b.request('t1', 'a', 'b', 30, { deadline: soon(50) });
      expect(await b.settled('t1')).toMatchObject({ status: 'failed', reason: 'deadline_exceeded' });
      expect(await b.legs('t1', ['a', 'b'])).toEqual([]);
      expect(await b.balance('a')).toBe(100);
    });

    it('keeps trying a chosen deposit past the deadline instead of refunding beside it, and completes once it gets through', async () => {
      // A refund run while a deposit may still land (another process's, or this one's unanswered
      // append) could create money: once the deposit is chosen, only its refusal moves to a refund.
      let healed = false;
      start(
        withFaults(store, { append: (target) => (target === 'account-b' && !healed ? 'fail' : undefined) }),
      );
      await b.request('t1', 'a', 'b', 30, { deadline: soon(50) });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await b.transferEvents('t1')).map((event) => event.type)).toEqual([
        'TransferRequested',
        'TransferDebited',
        'TransferLegChosen',
      ]);
      expect(await b.balance('a')).toBe(70);
      healed = true;
      expect(await b.settled('t1')).toMatchObject({ status: 'completed', compensated: false });
      expect(await b.balance('a')).toBe(70);
      expect(await b.balance('b')).toBe(30);
    });

    it('completes, not refunds, when the deposit landed but its answer was lost past the deadline', async () => {
      let clock = Date.now();
      let lost = false;
      const faults = withFaults(store, {
        append: (streamId) => {
          if (streamId !== 'account-b' || lost) return undefined;
          lost = true;
          clock += 3_600_000; // the deadline passes while the answer is lost
          return 'lose-ack';
        },
      });
      start(faults, { now: () => clock });
      await b.request('t1', 'a', 'b', 30, { deadline: new Date(clock + 60_000) });
      expect(await b.settled('t1')).toMatchObject({ status: 'completed', compensated: false });
      expect(await b.balance('a')).toBe(70);
      expect(await b.balance('b')).toBe(30);
      expect(await b.legs('t1', ['a', 'b'])).toHaveLength(2);
    });

    it('refunds a withdrawal that landed with its answer lost past the deadline', async () => {
      let clock = Date.now();
      let lost = false;
      const faults = withFaults(store, {
        append: (streamId) => {
          if (streamId !== 'account-a' || lost) return undefined;
          lost = true;
          clock += 3_600_000;
          return 'lose-ack';
        },
      });
      start(faults, { now: () => clock });
      await b.request('t1', 'a', 'b', 30, { deadline: new Date(clock + 60_000) });
      expect(await b.settled('t1')).toMatchObject({
        status: 'failed',
        reason: 'deadline_exceeded',
        compensated: true,
      });
      expect(await b.balance('a')).toBe(100);
      expect(await b.legs('t1', ['a', 'b'])).toEqual([
        { accountId: 'a', type: 'MoneyWithdrawn', amount: 30, leg: 'withdraw' },
        { accountId: 'a', type: 'MoneyDeposited', amount: 30, leg: 'refund' },
      ]);
    });
  });

  describe('exactly once', () => {
    it('moves nothing again when every event is delivered a second time', async () => {
      start();
      await b.request('t1', 'a', 'b', 30);
      await b.request('t2', 'a', 'b', 500);
      await b.settled('t1');
      await b.settled('t2');
      const head = await store.headPosition();
      // A second process under another name has no checkpoint: it receives every event again.
      const again = start(store, { name: 'replay' });
      await expect.poll(() => (again.checkpoint() ?? 0n) >= (head ?? 0n)).toBe(true);
      await again.stop();
      const after = (await store.readAll({ after: head })).map((e) => e.streamId);
      expect(after.every((id) => id.startsWith('checkpoint-'))).toBe(true);
      expect(await b.balance('a')).toBe(70);
      expect(await b.balance('b')).toBe(30);
    });

    it('finishes after a crash between the withdrawal and its record, withdrawing once', async () => {
      // The withdrawal lands; the process dies before it can record the debit.
      const crashing = severable(
        withFaults(store, {
          append: (streamId) => {
            if (streamId === 'account-a') crashing.sever();
            return undefined;
          },
        }),
      );
      const first = start(crashing.store);
      await b.request('t1', 'a', 'b', 30);
      await first.started;
      await expect.poll(async () => (await b.legs('t1', ['a'])).length).toBe(1);
      await first.stop();
      expect((await b.transfer('t1')).status).toBe('requested');

      start();
      expect(await b.settled('t1')).toMatchObject({ status: 'completed' });
      expect(await b.legs('t1', ['a', 'b'])).toEqual([
        { accountId: 'a', type: 'MoneyWithdrawn', amount: 30, leg: 'withdraw' },
        { accountId: 'b', type: 'MoneyDeposited', amount: 30, leg: 'deposit' },
      ]);
    });
  });

  it('names each leg with a key made of the transfer and the step', () => {
    expect(legKey('t1', 'withdraw')).toBe('transfer:t1:withdraw');
  });
});
