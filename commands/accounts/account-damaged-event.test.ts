import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '../../infra/event-store/sqlite-event-store.js';
import { countStoredEvents, tamperWithEventsFile } from '../../infra/event-store/testing/tamper.js';
import { createHttpApp } from '../../infra/http/create-http-app.js';
import { createLogger } from '../../infra/logger.js';
import { registerCommandApi } from '../command-api.js';
import { accountCommands } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'eventfold-damaged-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The command API on the SQLite store in `file`, as a fresh process would have it (nothing cached). */
const serve = async (file: string) => {
  const eventStore = createSqliteEventStore({ file });
  const app = createHttpApp({
    auth: { disabled: true },
    logger: createLogger({ level: 'silent' }),
    bodyLimit: 1024,
  });
  registerCommandApi(app, { eventStore, maxRetries: 3, routes: [accountCommands] });
  await app.ready();
  const post = async (url: string, payload: object) => {
    const response = await app.inject({ method: 'POST', url, payload });
    return { status: response.statusCode, body: response.json() };
  };
  return {
    post,
    close: async () => {
      await app.close();
      await eventStore.close();
    },
  };
};

describe('a command on a stream with a damaged event', () => {
  it('a changed digit in balanceAfter lets no overdraft through: 500 naming the stream, nothing appended', async () => {
    const file = join(dir, 'events.sqlite');
    const before = await serve(file);
    expect((await before.post('/accounts', { accountId: 'ada', owner: 'Ada', currency: 'EUR' })).status).toBe(
      201,
    );
    expect((await before.post('/accounts', { accountId: 'bob', owner: 'Bob', currency: 'EUR' })).status).toBe(
      201,
    );
    expect((await before.post('/accounts/ada/deposits', { amount: 150_000 })).status).toBe(200);
    expect((await before.post('/accounts/ada/withdrawals', { amount: 50_000 })).status).toBe(200);
    await before.close();

    // One digit, in the file, behind the app's back: a balance of 100000 now reads 900000.
    const changed = tamperWithEventsFile(
      file,
      `UPDATE events SET data = replace(data, '"balanceAfter":100000', '"balanceAfter":900000')
       WHERE type = 'MoneyWithdrawn'`,
    );
    const events = countStoredEvents(file);
    expect(changed).toBe(1);

    const after = await serve(file);
    const overdraft = await after.post('/accounts/ada/withdrawals', { amount: 500_000 });
    expect(overdraft.status).toBe(500);
    expect(overdraft.body).toMatchObject({
      type: 'urn:eventfold:problem:stored-event-damaged',
      status: 500,
      detail: expect.stringMatching(/^stream account-ada: the stored event at revision 2 is damaged/),
    });
    expect(countStoredEvents(file)).toBe(events);
    // Other streams are served as ever.
    expect((await after.post('/accounts/bob/deposits', { amount: 1 })).status).toBe(200);
    await after.close();
  });
});
