import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventStoreUnavailableError } from '../event-store/event-store.js';
import { createMemoryEventStore } from '../event-store/memory-event-store.js';
import { createSqliteEventStore } from '../event-store/sqlite-event-store.js';
import { createHttpApp } from '../http/create-http-app.js';
import { createLogger } from '../logger.js';
import { eventStoreCheck } from './dependency-checks.js';
import { registerHealthRoutes } from './health-routes.js';
import { projectionLagCheck } from './projection-lag-check.js';
import { type CheckOutcome, createReadiness, type HealthCheck } from './readiness.js';

const check = (name: string, critical: boolean, run: () => Promise<CheckOutcome>): HealthCheck => ({
  name,
  critical,
  run,
});
const up = async (): Promise<CheckOutcome> => ({ status: 'up' });
const fails = async (): Promise<CheckOutcome> => {
  throw new Error('connection refused');
};

const serve = async (checks: HealthCheck[], timeoutMs = 1000) => {
  const readiness = createReadiness({ checks, timeoutMs });
  const app = createHttpApp({
    auth: { disabled: true },
    logger: createLogger({ level: 'silent' }),
    bodyLimit: 1024,
  });
  registerHealthRoutes(app, readiness);
  const ready = async () => {
    const response = await app.inject({ url: '/health/ready' });
    return { code: response.statusCode, body: response.json() };
  };
  return { app, readiness, ready };
};

describe('readiness', () => {
  it('is ready while every check is up, with a report per check', async () => {
    const { app, ready } = await serve([check('eventStore', true, up), check('cache', false, up)]);
    const { code, body } = await ready();
    expect(code).toBe(200);
    expect(body).toMatchObject({
      ready: true,
      status: 'up',
      draining: false,
      checks: { eventStore: { status: 'up', critical: true }, cache: { status: 'up', critical: false } },
    });
    expect(typeof body.checks.eventStore.durationMs).toBe('number');
    await app.close();
  });

  it('is not ready (503) when a critical check fails, and says which and why', async () => {
    const { app, ready } = await serve([check('readStore', true, fails), check('cache', false, up)]);
    const { code, body } = await ready();
    expect(code).toBe(503);
    expect(body).toMatchObject({
      ready: false,
      status: 'down',
      checks: { readStore: { status: 'down', error: 'connection refused' }, cache: { status: 'up' } },
    });
    await app.close();
  });

  it('stays ready but degraded when only a non-critical check fails', async () => {
    const { app, ready } = await serve([check('eventStore', true, up), check('cache', false, fails)]);
    const { code, body } = await ready();
    expect(code).toBe(200);
    expect(body).toMatchObject({ ready: true, status: 'degraded', checks: { cache: { status: 'down' } } });
    await app.close();
  });

  it('is not ready (503, eventStore down) while the event store cannot be reached', async () => {
    const unreachable = {
      ...createMemoryEventStore(),
      headPosition: () => Promise.reject(new EventStoreUnavailableError('UNAVAILABLE: connection refused')),
    };
    const { app, ready } = await serve([eventStoreCheck(unreachable)]);
    const { code, body } = await ready();
    expect(code).toBe(503);
    expect(body).toMatchObject({
      ready: false,
      checks: { eventStore: { status: 'down', error: 'UNAVAILABLE: connection refused' } },
    });
    await app.close();
  });

  it('is not ready (503, eventStore down) when the event store could not take a write, though it reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eventfold-readiness-'));
    try {
      const file = join(dir, 'events.sqlite');
      await createSqliteEventStore({ file }).close();
      const readOnly = createSqliteEventStore({ file, readonly: true });
      const { app, ready } = await serve([eventStoreCheck(readOnly)]);
      const { code, body } = await ready();
      expect(code).toBe(503);
      expect(body.checks.eventStore).toMatchObject({
        status: 'down',
        error: expect.stringMatching(/read-only/),
      });
      await app.close();
      await readOnly.close();

      const writable = createSqliteEventStore({ file });
      const again = await serve([eventStoreCheck(writable)]);
      expect((await again.ready()).body.checks.eventStore).toMatchObject({
        status: 'up',
        detail: { head: null, writable: true },
      });
      await again.app.close();
      await writable.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports the damaged events the store met: degraded, still ready', async () => {
    const store = createMemoryEventStore();
    const metadata = { eventId: 'e', correlationId: 'c', causationId: 'c', occurredAt: '', schemaVersion: 1 };
    await store.append('account-ada', [{ type: 'Opened', data: {}, metadata }], {
      expectedRevision: 'no_stream',
    });
    store.damage('account-ada', 0);
    await expect(store.readStream('account-ada')).rejects.toThrow(/damaged/);
    const { app, ready } = await serve([eventStoreCheck(store)]);
    const { code, body } = await ready();
    expect(code).toBe(200);
    expect(body).toMatchObject({
      ready: true,
      status: 'degraded',
      checks: {
        eventStore: {
          status: 'degraded',
          detail: {
            damagedEvents: [
              {
                streamId: 'account-ada',
                revision: 0,
                position: '1',
                reason: 'its checksum does not match its content',
              },
            ],
          },
        },
      },
    });
    await app.close();
  });

  it('counts a check that does not answer in time as down', async () => {
    const hangs = () => new Promise<CheckOutcome>(() => {});
    const { app, ready } = await serve([check('eventStore', true, hangs)], 20);
    const { code, body } = await ready();
    expect(code).toBe(503);
    expect(body.checks.eventStore.error).toMatch(/no answer within 20 ms/);
    await app.close();
  });

  it('is not ready once draining, whatever the checks say; liveness stays up', async () => {
    const { app, ready, readiness } = await serve([check('eventStore', true, up)]);
    readiness.drain();
    const { code, body } = await ready();
    expect(code).toBe(503);
    expect(body).toMatchObject({ ready: false, draining: true });
    expect((await app.inject({ url: '/health/live' })).json()).toEqual({ status: 'up' });
    await app.close();
  });
});

describe('projection lag check', () => {
  const metadata = { eventId: 'e', correlationId: 'c', causationId: 'c', occurredAt: '', schemaVersion: 1 };
  const setUp = async (events: number) => {
    const eventStore = createMemoryEventStore();
    for (let i = 0; i < events; i++)
      await eventStore.append(`thing-${i}`, [{ type: 'ThingMade', data: {}, metadata }], {
        expectedRevision: 'no_stream',
      });
    // The projections' checkpoint store, as far as the check sees it: a read by projection name.
    const stored = new Map<string, bigint>();
    const checkpoints = {
      read: async (projection: string) => stored.get(projection),
      write: async (projection: string, position: bigint) => void stored.set(projection, position),
    };
    const lag = (maxLag: number) =>
      projectionLagCheck({ eventStore, readCheckpoint: checkpoints.read, projections: ['things'], maxLag });
    return { eventStore, checkpoints, lag };
  };
  const signal = new AbortController().signal;

  it('is up within the bound, down beyond it', async () => {
    const { lag, checkpoints, eventStore } = await setUp(5);
    // No checkpoint yet: all five events are ahead of the projection.
    expect(await lag(5).run(signal)).toEqual({ status: 'up', detail: { things: { lagEvents: 5 } } });
    expect(await lag(4).run(signal)).toEqual({
      status: 'down',
      detail: { things: { lagEvents: 'more than 4' } },
    });
    const [, second] = await eventStore.readAll({ maxCount: 2 });
    await checkpoints.write('things', second?.position as bigint);
    expect(await lag(3).run(signal)).toEqual({ status: 'up', detail: { things: { lagEvents: 3 } } });
    const head = (await eventStore.headPosition()) as bigint;
    await checkpoints.write('things', head);
    expect(await lag(0).run(signal)).toEqual({ status: 'up', detail: { things: { lagEvents: 0 } } });
  });

  it('degrades when the lag cannot be measured, fails when the checkpoints cannot be read', async () => {
    const { eventStore, checkpoints } = await setUp(1);
    const noHead = { ...eventStore, headPosition: () => Promise.reject(new Error('event store away')) };
    const unknown = projectionLagCheck({
      eventStore: noHead,
      readCheckpoint: checkpoints.read,
      projections: ['things'],
      maxLag: 10,
    });
    expect(await unknown.run(signal)).toMatchObject({ status: 'degraded' });
    const unreadable = projectionLagCheck({
      eventStore,
      readCheckpoint: () => Promise.reject(new Error('read store away')),
      projections: ['things'],
      maxLag: 10,
    });
    await expect(unreadable.run(signal)).rejects.toThrow('read store away');
  });
});
