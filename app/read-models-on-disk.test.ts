import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { streamIdFor } from '../domain/shared/decider.js';
import { counterAggregate } from '../domain/shared/testing/counter.js';
import type { EventData } from '../infra/event-store/event-store.js';
import { createSqliteEventStore } from '../infra/event-store/sqlite-event-store.js';
import { createLogger } from '../infra/logger.js';
import { createEmbeddedReadStore } from '../infra/read-store/embedded-read-store.js';
import { READ_MODELS_FILE } from '../infra/read-store/read-models-file.js';
import { COUNTERS } from '../projections/engine/testing/fixture-projection.js';
import { loadAppConfig } from './config.js';
import { type System, startSystem } from './system.js';
import { fixtureModule } from './testing/fixture-module.js';

/**
 * The embedded read models survive a restart of the app: the projectors resume from the
 * checkpoints kept with them in DATA_DIR instead of replaying the log. Counted through the
 * projections' own metric of events handled by this process.
 */
const modules = [fixtureModule];
const dirs: string[] = [];
const systems: System[] = [];
afterEach(async () => {
  await Promise.all(systems.splice(0).map((system) => system.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const meta = () => ({
  eventId: randomUUID(),
  correlationId: randomUUID(),
  causationId: randomUUID(),
  occurredAt: new Date().toISOString(),
  schemaVersion: 1,
});

/** Appends to the log as another process would, while the app is stopped. */
const append = async (dir: string, counterId: string, events: EventData[], from: number | 'no_stream') => {
  const store = createSqliteEventStore({ file: join(dir, 'events.sqlite') });
  try {
    await store.append(streamIdFor(counterAggregate, counterId), events, { expectedRevision: from });
  } finally {
    await store.close();
  }
};
const opened = (counterId: string): EventData => ({
  type: 'CounterOpened',
  data: { counterId, owner: 'ada' },
  metadata: meta(),
});
const incremented = (counterId: string, total: number): EventData => ({
  type: 'Incremented',
  data: { counterId, amount: 1, total },
  metadata: meta(),
});

const start = async (dir: string) => {
  const config = loadAppConfig(
    // A long lease: a lease the last process left behind would hold the projectors back visibly.
    { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, PROJECTION_LEASE_TTL_MS: '300000' },
    modules,
  );
  const system = await startSystem(config, createLogger({ level: 'silent' }), { modules });
  systems.push(system);
  return system;
};

/** Per projection: events this process handled, once every projection's lag is 0. */
const caughtUp = async (system: System) => {
  for (let i = 0; i < 200; i++) {
    const text = await system.metrics.registry.metrics();
    const series = (name: string) =>
      new Map(
        [...text.matchAll(new RegExp(`^${name}\\{projection="([^"]+)"\\} (\\d+)$`, 'gm'))].map((m) => [
          m[1],
          Number(m[2]),
        ]),
      );
    const lag = series('eventfold_projection_lag_events');
    const leading = series('eventfold_projection_leading');
    if (
      lag.size > 0 &&
      [...lag.values()].every((n) => n === 0) &&
      [...leading.values()].every((n) => n === 1)
    )
      return Object.fromEntries(series('eventfold_projection_events_total'));
    await sleep(50);
  }
  throw new Error('the projections did not catch up');
};

const counterTotal = async (dir: string, counterId: string) => {
  const store = createEmbeddedReadStore({ file: join(dir, READ_MODELS_FILE) });
  try {
    return (await store.collection(COUNTERS).findOne({ _id: counterId }))?.total;
  } finally {
    await store.close();
  }
};

describe('embedded read models across a restart', () => {
  it('resume from their checkpoints: a restart projects only what is new, even after a crash left leases held', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eventfold-restart-'));
    dirs.push(dir);
    await append(
      dir,
      'c1',
      [opened('c1'), ...Array.from({ length: 20 }, (_, i) => incremented('c1', i + 1))],
      'no_stream',
    );

    const first = await start(dir);
    expect(await caughtUp(first)).toEqual({ counters: 21, 'counter-changes': 20 });
    await first.stop();
    systems.splice(0);
    expect(await counterTotal(dir, 'c1')).toBe(20);

    // As a crash leaves them: every lease held by a process that is gone, for long.
    const file = createEmbeddedReadStore({ file: join(dir, READ_MODELS_FILE) });
    const leases = file.collection('projection_leases');
    for (const lease of await leases.find({}))
      await leases.bulkWrite([
        {
          updateOne: {
            filter: { _id: lease._id },
            update: { $set: { owner: 'gone@host:1', expiresAt: '2999-01-01T00:00:00.000Z' } },
          },
        },
      ]);
    await file.close();
    await append(dir, 'c1', [incremented('c1', 21)], 20);

    const second = await start(dir);
    expect(await caughtUp(second)).toEqual({ counters: 1, 'counter-changes': 1 });
    await second.stop();
    systems.splice(0);
    expect(await counterTotal(dir, 'c1')).toBe(21);

    // Without the file, the same start replays the whole log: what the counts above would show
    // if the checkpoints were not kept.
    rmSync(join(dir, READ_MODELS_FILE));
    const third = await start(dir);
    expect(await caughtUp(third)).toEqual({ counters: 22, 'counter-changes': 21 });
  });
});
