import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../infra/logger.js';
import { WRITE_PROBE_COLLECTION } from '../infra/read-store/mongo-read-store.js';
import {
  type FerretDBServer,
  ferretdbUnavailableReason,
  startFerretDB,
} from '../infra/read-store/testing/ferretdb-server.js';
import { loadAppConfig } from './config.js';
import { type System, startSystem } from './system.js';

// Needs a server it may stop and start again: a FerretDB of its own, never MONGO_URL's.
const unavailable = ferretdbUnavailableReason();
if (unavailable) console.warn(`skipped: readiness with a MongoDB read store on FerretDB — ${unavailable}`);

type Ready = { code: number; status: string; readStore: { status: string; detail?: unknown } };

/**
 * Readiness follows the MongoDB read store: a projector's check is a majority write (a primary
 * that lost its majority still answers ping), a read API's a ping. Both turn not ready when the
 * server goes away, and ready again when it is back on the same port.
 */
describe.skipIf(unavailable !== undefined)('readiness with a MongoDB read store (FerretDB)', () => {
  let server: FerretDBServer;
  let dir: string;
  const db = `eventfold_ready_${randomUUID().slice(0, 8)}`;
  const systems: Record<string, System> = {};

  beforeAll(async () => {
    server = await startFerretDB();
    dir = mkdtempSync(join(tmpdir(), 'eventfold-ready-mongo-'));
    for (const roles of ['projector', 'read'])
      systems[roles] = await startSystem(
        loadAppConfig({
          ROLES: roles,
          PORT: '0',
          HOST: '127.0.0.1',
          DATA_DIR: dir,
          MONGO_URL: server.url,
          MONGO_DB: db,
          READY_CHECK_TIMEOUT_MS: '500',
          MONGO_WRITE_TIMEOUT_MS: '500',
        }),
        createLogger({ level: 'silent' }),
      );
  }, 60_000);
  afterAll(async () => {
    await Promise.all(Object.values(systems).map((system) => system.stop()));
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ready = async (roles: string): Promise<Ready> => {
    const response = await fetch(new URL('/health/ready', systems[roles]?.url));
    const body = (await response.json()) as { status: string; checks: { readStore: Ready['readStore'] } };
    const { status, detail } = body.checks.readStore;
    return {
      code: response.status,
      status: body.status,
      readStore: { status, ...(detail ? { detail } : {}) },
    };
  };
  /** Polls until `expected` holds: the driver notices a server going or coming back on its own time. */
  const eventually = async (roles: string, expected: Ready) => {
    let last = await ready(roles);
    for (let i = 0; i < 300 && JSON.stringify(last) !== JSON.stringify(expected); i++) {
      await sleep(50);
      last = await ready(roles);
    }
    expect(last).toEqual(expected);
  };

  it('a projector checks with a write, a read API with a ping; both follow the server away and back', async () => {
    const writable = {
      code: 200,
      status: 'up',
      readStore: { status: 'up', detail: { writes: 'acknowledged' } },
    };
    const reachable = { code: 200, status: 'up', readStore: { status: 'up' } };
    await eventually('projector', writable);
    await eventually('read', reachable);
    const client = await new MongoClient(server.url).connect();
    try {
      expect(await client.db(db).collection(WRITE_PROBE_COLLECTION).findOne({})).toMatchObject({
        _id: 'write-probe',
        at: expect.any(Date),
      });
    } finally {
      await client.close();
    }

    const { port } = server;
    await server.stop();
    const down = { code: 503, status: 'down', readStore: { status: 'down' } };
    await eventually('projector', down);
    await eventually('read', down);

    server = await startFerretDB({ port });
    await eventually('projector', writable);
    await eventually('read', reachable);
  }, 60_000);
});
