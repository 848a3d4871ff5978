import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../infra/event-store/event-store.js';
import { createSqliteEventStore } from '../../infra/event-store/sqlite-event-store.js';
import { createHttpApp, type HttpApp } from '../../infra/http/create-http-app.js';
import { createLogger } from '../../infra/logger.js';
import { registerCommandApi } from '../command-api.js';
import { accountCommands } from './index.js';

/**
 * No lost updates on the embedded store, through HTTP: 50 concurrent withdrawals of 1 from an
 * account holding 20. Exactly 20 succeed, the balance ends at 0, and each accepted withdrawal is
 * in the stream exactly once. (account-routes.test.ts runs the same race on the memory store.)
 */
describe('concurrent withdrawals on SQLite', () => {
  let dir: string;
  let eventStore: EventStore;
  let app: HttpApp;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'eventfold-concurrency-'));
    eventStore = createSqliteEventStore({ file: join(dir, 'events.sqlite') });
    app = createHttpApp({
      auth: { disabled: true },
      logger: createLogger({ level: 'silent' }),
      bodyLimit: 1024,
    });
    registerCommandApi(app, { eventStore, maxRetries: 100, routes: [accountCommands] });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await eventStore.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (url: string, payload?: object) =>
    app.inject({ method: 'POST', url, ...(payload && { payload }) });

  it('never overdraws, and applies each accepted withdrawal once', async () => {
    expect((await post('/accounts', { accountId: 'race', owner: 'Ada', currency: 'EUR' })).statusCode).toBe(
      201,
    );
    expect((await post('/accounts/race/deposits', { amount: 20 })).statusCode).toBe(200);

    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        post('/accounts/race/withdrawals', { amount: 1, reference: `w${i}` }),
      ),
    );
    const accepted = responses.flatMap((r, i) => (r.statusCode === 200 ? [`w${i}`] : []));
    expect(accepted).toHaveLength(20);
    for (const r of responses.filter((r) => r.statusCode !== 200)) {
      expect(r.statusCode).toBe(422);
      expect(r.json().type).toBe('urn:eventfold:problem:insufficient-funds');
    }

    const withdrawals = (await eventStore.readStream('account-race')).filter(
      (e) => e.type === 'MoneyWithdrawn',
    );
    const references = withdrawals.map((e) => (e.data as { reference: string }).reference);
    expect(references.sort()).toEqual(accepted.sort());
    expect(withdrawals.at(-1)?.data).toMatchObject({ balanceAfter: 0 });
    // Every accepted command got a distinct revision: none overwrote another.
    expect(new Set(withdrawals.map((e) => e.revision)).size).toBe(20);
  });
});
