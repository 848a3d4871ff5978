import { afterEach, describe, expect, it } from 'vitest';
import { type InProcessApp, startInProcessApp } from '../../app/testing/in-process-app.js';
import type { HttpApp } from '../../infra/http/create-http-app.js';

/**
 * End to end: commands through the write API, projected by the real projectors, read back through
 * the read API with x-min-position; once with the projectors' in-process notifications, once as a
 * read API in a process of its own would, polling the checkpoints.
 */
let app: HttpApp;
let running: InProcessApp | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

const start = async (mode: 'in-process' | 'polling') => {
  running = await startInProcessApp({ wait: mode });
  app = running.app;
};

const command = async (url: string, payload: object = {}) => {
  const response = await app.inject({ method: 'POST', url, payload });
  expect(response.statusCode).toBeLessThan(300);
  return response.json() as { accountId: string; revision: number; position: string };
};

const read = async (url: string, position: string) => {
  const response = await app.inject({ url, headers: { 'x-min-position': position } });
  expect(response.statusCode).toBe(200);
  return response.json();
};

const pageThrough = async (url: string, position: string) => {
  const items: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: Record<string, unknown>[]; nextCursor: string | null } = await read(
      cursor === null ? url : `${url}&cursor=${cursor}`,
      position,
    );
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return items;
};

describe.each(['in-process', 'polling'] as const)('read your writes (%s checkpoint wait)', (mode) => {
  it('shows each write on the read right after it', async () => {
    await start(mode);
    const opened = await command('/accounts', { owner: 'Ada', currency: 'EUR', accountId: 'ada' });
    expect(await read('/accounts/ada', opened.position)).toMatchObject({
      accountId: 'ada',
      owner: 'Ada',
      balance: 0,
      status: 'open',
      revision: 0,
    });
    const deposited = await command('/accounts/ada/deposits', { amount: 700, reference: 'salary' });
    expect(await read('/accounts/ada', deposited.position)).toMatchObject({ balance: 700, revision: 1 });
    expect((await read('/accounts/ada/transactions?limit=5', deposited.position)).items).toEqual([
      {
        revision: 1,
        kind: 'deposit',
        amount: 700,
        balanceBefore: 0,
        balanceAfter: 700,
        reference: 'salary',
        at: expect.any(String),
      },
    ]);
    const withdrawn = await command('/accounts/ada/withdrawals', { amount: 700 });
    const closed = await command('/accounts/ada/close');
    expect(BigInt(closed.position)).toBeGreaterThan(BigInt(withdrawn.position));
    expect(await read('/accounts/ada', closed.position)).toMatchObject({ balance: 0, status: 'closed' });
    expect((await read('/accounts?status=closed', closed.position)).items).toEqual([
      expect.objectContaining({ accountId: 'ada' }),
    ]);
  });

  it('pages through hundreds of accounts of an owner and hundreds of transactions', async () => {
    await start(mode);
    const graces: string[] = [];
    for (let i = 0; i < 150; i++) {
      const { accountId } = await command('/accounts', { owner: 'Grace', currency: 'EUR' });
      graces.push(accountId);
      if (i % 10 === 0) await command('/accounts', { owner: 'Alan', currency: 'GBP' });
    }
    let balance = 0;
    let last = await command('/accounts', { owner: 'Alan', currency: 'GBP', accountId: 'busy' });
    for (let i = 0; i < 230; i++) {
      const withdraw = i % 3 === 2;
      last = await command(`/accounts/busy/${withdraw ? 'withdrawals' : 'deposits'}`, {
        amount: withdraw ? 5 : 10,
      });
      balance += withdraw ? -5 : 10;
    }

    const owned = await pageThrough('/accounts?owner=Grace&limit=13', last.position);
    expect(owned.map((account) => account.accountId)).toEqual([...graces].sort());

    const history = await pageThrough('/accounts/busy/transactions?limit=17', last.position);
    expect(history.map((t) => t.revision)).toEqual(Array.from({ length: 230 }, (_, i) => i + 1));
    expect(history.at(-1)).toMatchObject({ balanceAfter: balance });
    expect(await read('/accounts/busy', last.position)).toMatchObject({ balance, revision: 230 });
  });
});
