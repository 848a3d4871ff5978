import { afterEach, describe, expect, it } from 'vitest';
import { type InProcessApp, startInProcessApp } from '../../app/testing/in-process-app.js';
import { bearer, testAuthentication } from '../../infra/auth/testing/test-tokens.js';

/**
 * Who may do what, end to end with real tokens (signed, verified by the app's verifier): the
 * deciders refuse a non-owner's withdrawal or closing (403), the read API shows an account, its
 * transactions and its transfers only to their owner or an admin (404 to anyone else, as if they
 * did not exist), every event records who acted, and Idempotency-Keys belong to their caller.
 */
let running: InProcessApp | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

const as = (subject: string, roles: string[] = []) => ({ authorization: bearer(subject, roles) });
const ada = as('ada');
const bob = as('bob');
const admin = as('ops', ['admin']);

const start = async () => {
  running = await startInProcessApp({ auth: testAuthentication });
  const { app, eventStore } = running;
  const post = (headers: Record<string, string>, url: string, payload: object = {}) =>
    app.inject({ method: 'POST', url, payload, headers });
  const get = (headers: Record<string, string>, url: string, position?: string) =>
    app.inject({ url, headers: { ...headers, ...(position && { 'x-min-position': position }) } });
  return { app, eventStore, post, get };
};

describe('ownership', () => {
  it('lets only the owner, or an admin, take money out of an account or close it', async () => {
    const { post, eventStore } = await start();
    expect((await post(ada, '/accounts', { accountId: 'a', owner: 'Ada', currency: 'EUR' })).statusCode).toBe(
      201,
    );
    expect((await post(bob, '/accounts/a/deposits', { amount: 100 })).statusCode).toBe(200);
    const head = await eventStore.headPosition();

    const withdrawal = await post(bob, '/accounts/a/withdrawals', { amount: 10 });
    expect(withdrawal.statusCode).toBe(403);
    expect(withdrawal.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(withdrawal.json()).toMatchObject({
      status: 403,
      type: expect.stringMatching(/not-account-owner$/),
    });
    expect((await post(bob, '/accounts/a/close')).statusCode).toBe(403);
    expect(await eventStore.headPosition()).toBe(head);

    expect((await post(ada, '/accounts/a/withdrawals', { amount: 10 })).statusCode).toBe(200);
    expect((await post(admin, '/accounts/a/withdrawals', { amount: 90 })).statusCode).toBe(200);
    expect((await post(admin, '/accounts/a/close')).statusCode).toBe(200);
  });

  it('records who acted in every event', async () => {
    const { post, eventStore } = await start();
    await post(ada, '/accounts', { accountId: 'a', owner: 'Ada', currency: 'EUR' });
    await post(bob, '/accounts/a/deposits', { amount: 5 });
    await post(admin, '/accounts/a/withdrawals', { amount: 5 });
    const events = await eventStore.readStream('account-a');
    expect(events.map((event) => [event.type, event.metadata.actor])).toEqual([
      ['AccountOpened', 'ada'],
      ['MoneyDeposited', 'bob'],
      ['MoneyWithdrawn', 'ops'],
    ]);
    expect(events[0]?.data).toMatchObject({ owner: 'Ada', ownerId: 'ada' });
  });

  it('shows an account and its transactions to its owner and to admins only', async () => {
    const { post, get } = await start();
    await post(ada, '/accounts', { accountId: 'a', owner: 'Ada', currency: 'EUR' });
    const { position } = (
      await post(bob, '/accounts', { accountId: 'b', owner: 'Bob', currency: 'EUR' })
    ).json();

    expect((await get(ada, '/accounts/a', position)).json()).toMatchObject({
      accountId: 'a',
      ownerId: 'ada',
    });
    expect((await get(admin, '/accounts/a', position)).statusCode).toBe(200);
    const hidden = await get(bob, '/accounts/a', position);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().type).toMatch(/account-not-found$/);
    expect((await get(bob, '/accounts/a/transactions', position)).statusCode).toBe(404);
    expect((await get(ada, '/accounts/a/transactions', position)).statusCode).toBe(200);

    const ids = async (headers: Record<string, string>, query = '') =>
      (await get(headers, `/accounts${query}`, position))
        .json()
        .items.map((item: { accountId: string }) => item.accountId);
    expect(await ids(ada)).toEqual(['a']);
    expect(await ids(bob)).toEqual(['b']);
    expect(await ids(admin)).toEqual(['a', 'b']);
    // Filtering by a holder's name does not widen what a caller sees.
    expect(await ids(bob, '?owner=Ada')).toEqual([]);
  });

  it('shows a transfer to whoever asked for it and to admins only', async () => {
    const { post, get } = await start();
    await post(ada, '/accounts', { accountId: 'a', owner: 'Ada', currency: 'EUR' });
    await post(bob, '/accounts', { accountId: 'b', owner: 'Bob', currency: 'EUR' });
    const requested = await post(ada, '/transfers', {
      transferId: 't1',
      fromAccountId: 'a',
      toAccountId: 'b',
      amount: 1,
    });
    expect(requested.statusCode).toBe(202);
    const { position } = requested.json();
    expect((await get(ada, '/transfers/t1', position)).json()).toMatchObject({
      transferId: 't1',
      requestedBy: 'ada',
    });
    expect((await get(admin, '/transfers/t1', position)).statusCode).toBe(200);
    expect((await get(bob, '/transfers/t1', position)).statusCode).toBe(404);
  });

  it('keeps Idempotency-Keys apart per caller: the same key from two callers is two requests', async () => {
    const { post, eventStore } = await start();
    await post(ada, '/accounts', { accountId: 'a', owner: 'Ada', currency: 'EUR' });
    await post(bob, '/accounts', { accountId: 'b', owner: 'Bob', currency: 'EUR' });
    const key = { 'idempotency-key': 'shared-key' };
    const first = await post({ ...ada, ...key }, '/accounts/a/deposits', { amount: 7 });
    const other = await post({ ...bob, ...key }, '/accounts/b/deposits', { amount: 9 });
    expect(first.statusCode).toBe(200);
    expect(other.statusCode).toBe(200);
    expect(other.headers['idempotent-replayed']).toBeUndefined();
    // A repeat is still recognised, per caller.
    const again = await post({ ...ada, ...key }, '/accounts/a/deposits', { amount: 7 });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(
      (await eventStore.readStream('account-a')).filter((e) => e.type === 'MoneyDeposited'),
    ).toHaveLength(1);
    expect(
      (await eventStore.readStream('account-b')).filter((e) => e.type === 'MoneyDeposited'),
    ).toHaveLength(1);
  });

  it('answers a request without a valid token with 401 and changes nothing', async () => {
    const { post, eventStore } = await start();
    const head = await eventStore.headPosition();
    for (const headers of [{}, { authorization: 'Bearer forged.token.here' }] as Record<string, string>[]) {
      const response = await post(headers, '/accounts', { accountId: 'x', owner: 'X', currency: 'EUR' });
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="eventfold"/);
    }
    expect(await eventStore.headPosition()).toBe(head);
  });
});
