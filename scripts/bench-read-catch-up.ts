/**
 * The projection half of bench:read: append events to the embedded (SQLite) event store, then
 * start the app's projectors from nothing and time each one to the head of the log.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadAppConfig } from '../app/config.js';
import { projectionsOf } from '../app/module.js';
import { modules } from '../app/modules.js';
import { accountAggregate } from '../domain/accounts/account.js';
import { streamIdFor } from '../domain/shared/decider.js';
import { createLruCache } from '../infra/cache/lru-cache.js';
import type { EventData } from '../infra/event-store/event-store.js';
import { createSqliteEventStore } from '../infra/event-store/sqlite-event-store.js';
import { createLogger } from '../infra/logger.js';
import { createEmbeddedReadStore } from '../infra/read-store/embedded-read-store.js';
import { startProjections } from '../projections/start-projections.js';

export type CatchUp = { projection: string; events: number; seconds: number };

const metadata = () => ({
  eventId: randomUUID(),
  correlationId: randomUUID(),
  causationId: randomUUID(),
  occurredAt: new Date().toISOString(),
  schemaVersion: 1,
});

/** One account's stream: opened, then deposits of 10, as the command pipeline would write them. */
const accountStream = (accountId: string, deposits: number): EventData[] => [
  {
    type: 'AccountOpened',
    data: { accountId, owner: `owner-${accountId}`, ownerId: `owner-${accountId}`, currency: 'EUR' },
    metadata: metadata(),
  },
  ...Array.from({ length: deposits }, (_, i) => ({
    type: 'MoneyDeposited',
    data: { accountId, amount: 10, balanceAfter: 10 * (i + 1), reference: `bench-${i}` },
    metadata: metadata(),
  })),
];

export const measureCatchUp = async ({ events, accounts }: { events: number; accounts: number }) => {
  const dir = mkdtempSync(join(tmpdir(), 'eventfold-bench-read-'));
  const eventStore = createSqliteEventStore({ file: join(dir, 'events.sqlite'), synchronous: 'normal' });
  const readStore = createEmbeddedReadStore();
  const cache = createLruCache({ maxEntries: accounts });
  try {
    const perAccount = Math.max(1, Math.floor(events / accounts));
    let appended = 0;
    for (let a = 0; a < accounts && appended < events; a++) {
      const accountId = `bench-${a}`;
      const stream = accountStream(accountId, Math.min(perAccount, events - appended) - 1);
      await eventStore.append(streamIdFor(accountAggregate, accountId), stream, {
        expectedRevision: 'no_stream',
      });
      appended += stream.length;
    }
    const head = await eventStore.headPosition();
    if (head === undefined) throw new Error('nothing was appended');
    const counts = new Map<string, number>();
    for (const projection of projectionsOf(modules, {})) {
      const matching = await eventStore.readAll({ filter: { eventTypes: projection.eventTypes } });
      counts.set(projection.name, matching.length);
    }

    const config = loadAppConfig({});
    const started = performance.now();
    const projections = startProjections({
      eventStore,
      readStore,
      logger: createLogger({ level: 'warn' }),
      config,
      projections: projectionsOf(modules, { cache: { cache, ttlSeconds: config.CACHE_TTL_SECONDS } }),
    });
    try {
      return await Promise.all(
        [...counts].map(async ([projection, count]): Promise<CatchUp> => {
          const reached = await projections.waitForCheckpoint(projection, head, { timeoutMs: 600_000 });
          if (!reached) throw new Error(`${projection} did not reach the head in time`);
          return { projection, events: count, seconds: (performance.now() - started) / 1000 };
        }),
      );
    } finally {
      await projections.stop();
    }
  } finally {
    await eventStore.close();
    await readStore.close();
    await cache.close();
    rmSync(dir, { recursive: true, force: true });
  }
};
