import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { IDEMPOTENCY_STREAM_PREFIX } from '../commands/pipeline/idempotency.js';
import { loadOrCreateDevSigningKey, signDevToken } from '../infra/auth/dev-signing-key.js';
import { EVENTS_FILE } from '../infra/event-store/create-event-store.js';
import { createSqliteEventStore } from '../infra/event-store/sqlite-event-store.js';
import { verifyEventStore } from '../infra/event-store/verify-store.js';
import { createLogger } from '../infra/logger.js';
import { loadAppConfig } from './config.js';
import { type System, startSystem } from './system.js';
import { fixtureModule } from './testing/fixture-module.js';

/**
 * Idempotency records do not pile up: the write role, on the embedded store, with a one-second
 * retention (IDEMPOTENCY_RETENTION_HOURS), over real HTTP with the fixture module's counters.
 */
const modules = [fixtureModule];
let system: System | undefined;
let dir: string | undefined;
afterEach(async () => {
  await system?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('deletes records past the retention while the app runs: the count of record streams goes back down', async () => {
  dir = mkdtempSync(join(tmpdir(), 'eventfold-retention-'));
  const config = loadAppConfig(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dir,
      ROLES: 'write',
      IDEMPOTENCY_RETENTION_HOURS: String(1 / 3600),
    },
    modules,
  );
  system = await startSystem(config, createLogger({ level: 'silent' }), { modules });
  const token = await signDevToken(await loadOrCreateDevSigningKey(dir), {
    subject: 'retention-test',
    roles: [],
    rolesClaim: 'roles',
    ttlSeconds: 600,
  });
  const increment = async (key: string) => {
    const response = await fetch(new URL('/counters/c1/increments', system!.url), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      body: JSON.stringify({ amount: 1 }),
    });
    return { status: response.status, replayed: response.headers.get('idempotent-replayed') };
  };
  const opened = await fetch(new URL('/counters', system.url), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ counterId: 'c1', owner: 'Ada' }),
  });
  expect(opened.status).toBe(201);

  // The app's log, read beside it as `npm run events` does.
  const log = createSqliteEventStore({ file: join(dir, EVENTS_FILE), readonly: true });
  const recordStreams = async () =>
    new Set(
      (await log.readAll({ filter: { streamPrefixes: [IDEMPOTENCY_STREAM_PREFIX] } })).map((e) => e.streamId),
    ).size;
  const increments = async () =>
    (await log.readStream('counter-c1')).filter((e) => e.type === 'Incremented').length;
  try {
    const peaks: number[] = [];
    const afterSweeps: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20; i++) expect((await increment(`r${round}-${i}`)).status).toBe(200);
      peaks.push(await recordStreams());
      // A second after its record, a key is forgotten; the sweep runs every 250 ms.
      const deadline = Date.now() + 10_000;
      while ((await recordStreams()) > 1 && Date.now() < deadline) await sleep(100);
      afterSweeps.push(await recordStreams());
    }
    // The last record is the log's last event, kept until something follows it. A slow round sees
    // its first records go before it ends: at most a round's worth and that one, never the total.
    expect(afterSweeps).toEqual([1, 1, 1]);
    for (const peak of peaks) {
      expect(peak).toBeGreaterThan(1);
      expect(peak).toBeLessThanOrEqual(21);
    }
    expect(await increments()).toBe(60);

    // A key whose record went is a new request.
    expect(await increment('r0-0')).toEqual({ status: 200, replayed: null });
    expect(await increment('r0-0')).toEqual({ status: 200, replayed: 'true' });
    expect(await increments()).toBe(61);
    expect(await verifyEventStore(log)).toMatchObject({ damaged: [], gaps: [] });
  } finally {
    await log.close();
  }
});
