import { afterEach, describe, expect, it } from 'vitest';
import { type InProcessApp, startInProcessApp } from '../../app/testing/in-process-app.js';
import type { HttpApp } from '../../infra/http/create-http-app.js';
import type { ReadStore } from '../../infra/read-store/read-store.js';
import { accountsProjection } from '../../projections/accounts/accounts-projection.js';
import { parkedEvents } from '../../projections/engine/parked-events.js';
import { replayParked } from '../../projections/engine/replay-parked.js';
import { fragile } from '../../projections/engine/testing/harness.js';

/**
 * End to end: an account whose AccountOpened parks (its handler fails for that one event), then a
 * deposit on it, through the write API, the real projector and the read API. The read API must
 * never answer 5xx for it, and a replay once the handler is fixed must bring the whole account back.
 */
let app: HttpApp;
let readStore: ReadStore;
let running: InProcessApp | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

const start = async (poisonOwner: string) => {
  let accounts: ReturnType<typeof fragile> | undefined;
  running = await startInProcessApp({
    env: { PROJECTION_MAX_ATTEMPTS: '2', PROJECTION_RETRY_BACKOFF_MS: '1' },
    projections: (cache) => {
      accounts = fragile(
        accountsProjection({ cache: { cache, ttlSeconds: 60 } }),
        (event) => event.type === 'AccountOpened' && (event.data as { owner: string }).owner === poisonOwner,
      );
      return [accounts.projection];
    },
  });
  app = running.app;
  readStore = running.readStore;
  if (!accounts) throw new Error('the projections were not built');
  return accounts;
};

const command = async (url: string, payload: object = {}) => {
  const response = await app.inject({ method: 'POST', url, payload });
  expect(response.statusCode).toBeLessThan(300);
  return response.json() as { accountId: string; revision: number; position: string };
};

const read = (url: string, position: string) => app.inject({ url, headers: { 'x-min-position': position } });

describe('an account stream with a parked event', () => {
  it('is not shown until a replay restores it whole; the read API never answers 5xx for it', async () => {
    const accounts = await start('Mallory');
    const poisoned = await command('/accounts', { owner: 'Mallory', currency: 'EUR' });
    await command(`/accounts/${poisoned.accountId}/deposits`, { amount: 500 });
    const healthy = await command('/accounts', { owner: 'Ada', currency: 'EUR' });
    const last = await command(`/accounts/${healthy.accountId}/deposits`, { amount: 70 });

    const one = await read(`/accounts/${poisoned.accountId}`, last.position);
    expect(one.statusCode).toBe(404);
    const list = await read('/accounts', last.position);
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toEqual([
      expect.objectContaining({ accountId: healthy.accountId, balance: 70 }),
    ]);

    accounts.fixed = true;
    const replay = await replayParked({ projection: accounts.projection, readStore, logger: app.log });
    expect(replay).toMatchObject({
      replayed: [expect.any(String), expect.any(String)],
      superseded: [],
      failed: [],
    });
    expect(await parkedEvents(readStore).list()).toEqual([]);
    const restored = await read(`/accounts/${poisoned.accountId}`, last.position);
    expect(restored.statusCode).toBe(200);
    expect(restored.json()).toMatchObject({ owner: 'Mallory', currency: 'EUR', balance: 500, revision: 1 });
  });
});
