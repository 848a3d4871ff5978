import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { type System, startSystem } from './system.js';

const servers = {
  EVENTSTORE_URL: process.env.EVENTSTORE_URL,
  MONGO_URL: process.env.MONGO_URL,
  REDIS_URL: process.env.REDIS_URL,
};
const missing = Object.entries(servers)
  .filter(([, url]) => !url)
  .map(([name]) => name);
if (missing.length > 0)
  console.warn(
    `skipped: the split topology on real servers — set ${missing.join(', ')} to run it (CI's real-servers job does)`,
  );

/**
 * The production shape against real servers: write, read and projector each started as a system
 * of its own (as three processes would be), sharing nothing but EventStoreDB, a MongoDB replica
 * set and Redis. A command through `write` is read back through `read` with x-min-position, which
 * there waits by polling the checkpoints `projector` writes.
 */
describe.skipIf(missing.length > 0)('split roles on EventStoreDB, MongoDB and Redis', () => {
  const systems: Record<string, System> = {};
  const db = `eventfold_topology_${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    for (const roles of ['projector', 'write', 'read'])
      systems[roles] = await startSystem(
        loadConfig({
          ...servers,
          MONGO_DB: db,
          ROLES: roles,
          PORT: '0',
          HOST: '127.0.0.1',
          READY_MAX_LAG: '0',
        }),
        createLogger({ level: 'warn' }),
      );
  }, 60_000);
  afterAll(async () => {
    await Promise.all(Object.values(systems).map((system) => system.stop()));
  });

  const url = (roles: string, path: string) => new URL(path, systems[roles]?.url);

  it('every role is ready on the real servers', async () => {
    for (const roles of Object.keys(systems)) {
      const response = await fetch(url(roles, '/health/ready'));
      const body = (await response.json()) as { checks: Record<string, { status: string }> };
      expect(response.status, `${roles}: ${JSON.stringify(body)}`).toBe(200);
      for (const [name, check] of Object.entries(body.checks))
        expect(check.status, `${roles} ${name}`).toBe('up');
    }
  });

  it('a command through the write role is read back through the read role', async () => {
    const accountId = `topology-${randomUUID()}`;
    const post = (path: string, body: object) =>
      fetch(url('write', path), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post('/accounts', { accountId, owner: 'Ada', currency: 'EUR' })).status).toBe(201);
    const deposit = await post(`/accounts/${accountId}/deposits`, { amount: 42 });
    expect(deposit.status).toBe(200);
    const { position } = (await deposit.json()) as { position: string };

    const read = await fetch(url('read', `/accounts/${accountId}`), {
      headers: { 'x-min-position': position },
    });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ accountId, balance: 42, revision: 1 });

    const metrics = await (await fetch(url('projector', '/metrics'))).text();
    expect(metrics).toMatch(/^eventfold_projection_leading\{projection="accounts"\} 1$/m);
  }, 60_000);
});
