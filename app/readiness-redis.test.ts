import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RedisServer,
  redisServerAvailable,
  startRedisServer,
} from '../infra/cache/testing/redis-server.js';
import { createLogger } from '../infra/logger.js';
import { loadAppConfig } from './config.js';
import { type System, startSystem } from './system.js';

const available = redisServerAvailable();
if (!available)
  console.warn(
    'skipped: readiness with a real Redis — redis-server not on PATH (apt-get install redis-server)',
  );

/**
 * Readiness follows a real dependency: a redis-server stopped under a running system, then brought
 * back on the same port. A projector-only process turns not ready and ready again; a read API
 * only degrades, since its reads fall back to the read model.
 */
describe.skipIf(!available)('readiness with a real Redis', () => {
  let redis: RedisServer;
  let dir: string;
  const systems: Record<string, System> = {};

  beforeAll(async () => {
    redis = await startRedisServer();
    dir = mkdtempSync(join(tmpdir(), 'eventfold-ready-'));
    for (const roles of ['projector', 'read'])
      systems[roles] = await startSystem(
        loadAppConfig({
          ROLES: roles,
          PORT: '0',
          HOST: '127.0.0.1',
          DATA_DIR: dir,
          REDIS_URL: redis.url,
          READY_CHECK_TIMEOUT_MS: '500',
        }),
        createLogger({ level: 'silent' }),
      );
  });
  afterAll(async () => {
    await Promise.all(Object.values(systems).map((system) => system.stop()));
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ready = async (roles: string) => {
    const response = await fetch(new URL('/health/ready', systems[roles]?.url));
    const body = (await response.json()) as { status: string; checks: { cache: { status: string } } };
    return { code: response.status, status: body.status, cache: body.checks.cache.status };
  };
  /** Polls until `expected` holds: the client notices a server going or coming back on its own time. */
  const eventually = async (roles: string, expected: { code: number; status: string; cache: string }) => {
    let last = await ready(roles);
    for (let i = 0; i < 200 && JSON.stringify(last) !== JSON.stringify(expected); i++) {
      await sleep(50);
      last = await ready(roles);
    }
    expect(last).toEqual(expected);
  };

  it('turns not ready when Redis goes away and ready when it returns (projector); degrades only (read)', async () => {
    await eventually('projector', { code: 200, status: 'up', cache: 'up' });
    await eventually('read', { code: 200, status: 'up', cache: 'up' });

    await redis.stop();
    await eventually('projector', { code: 503, status: 'down', cache: 'down' });
    await eventually('read', { code: 200, status: 'degraded', cache: 'down' });

    redis = await startRedisServer({ port: redis.port });
    await eventually('projector', { code: 200, status: 'up', cache: 'up' });
    await eventually('read', { code: 200, status: 'up', cache: 'up' });
  });
});
