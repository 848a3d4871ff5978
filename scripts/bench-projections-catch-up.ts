/**
 * The catch-up half of bench:projections: a log of counter events in the embedded SQLite event
 * store, then each projection of the engines' fixture module (projections/engine/testing/
 * fixture-projection.ts, the same writes per event as the example's accounts and transactions)
 * timed from a cold start to the head of the log, alone, next to what bounds it: the log read by
 * itself, the log read with the handler, and the projector with its writes discarded.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { streamIdFor } from '../domain/shared/decider.js';
import { counterAggregate } from '../domain/shared/testing/counter.js';
import { loadConfig } from '../infra/config.js';
import type { EventData, EventStore, Position } from '../infra/event-store/event-store.js';
import { createLogger } from '../infra/logger.js';
import { createEmbeddedReadStore } from '../infra/read-store/embedded-read-store.js';
import type { Collection, Document, ReadStore, WriteOp } from '../infra/read-store/read-store.js';
import type { Projection } from '../projections/engine/projection.js';
import { startProjections } from '../projections/start-projections.js';

export type Timed = { events: number; seconds: number; cpuMicros: number };

/** Wall time, and this process's CPU time (all threads), which a busy machine inflates less. */
export const timed = async (events: number, run: () => Promise<unknown>): Promise<Timed> => {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { events, seconds, cpuMicros: used.user + used.system };
};

const metadata = (n: number) => ({
  eventId: randomUUID(),
  correlationId: randomUUID(),
  causationId: randomUUID(),
  occurredAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  schemaVersion: 1,
});

/**
 * `events` events over `streams` counters, as the command pipeline writes them (opened, then
 * increments carrying the total they leave), appended a stream at a time to be quick.
 */
export const fillCounterLog = async (
  eventStore: EventStore,
  { events, streams }: { events: number; streams: number },
) => {
  const perStream = Math.max(1, Math.floor(events / streams));
  let appended = 0;
  for (let s = 0; appended < events; s++) {
    const counterId = `bench-${s}`;
    const count = Math.min(perStream, events - appended);
    const stream: EventData[] = [
      { type: 'CounterOpened', data: { counterId, owner: `owner-${s % 100}` }, metadata: metadata(0) },
      ...Array.from({ length: count - 1 }, (_, i) => ({
        type: 'Incremented',
        data: { counterId, amount: 1, total: i + 1, note: `bench ${i}` },
        metadata: metadata(i + 1),
      })),
    ];
    await eventStore.append(streamIdFor(counterAggregate, counterId), stream, {
      expectedRevision: 'no_stream',
    });
    appended += count;
  }
};

const filterOf = (projection: Projection) => ({
  eventTypes: projection.eventTypes,
  streamPrefixes: projection.streamPrefixes,
});

/** Reads the projection's events to `head` through the subscription, handling them or not. */
export const readLog = async (
  eventStore: EventStore,
  projection: Projection,
  head: Position,
  handle: boolean,
) => {
  const done = new AbortController();
  let events = 0;
  for await (const event of eventStore.subscribeToAll({
    filter: filterOf(projection),
    signal: done.signal,
    onCheckpoint: (position) => {
      if (position >= head) done.abort();
    },
  })) {
    if (handle) projection.handle(event);
    events++;
  }
  return events;
};

/** The store, except that the projection's own collections take every write and keep nothing. */
export const discardingWrites = (inner: ReadStore, projection: Projection): ReadStore => {
  const owned = new Set(projection.collections.map((collection) => collection.name));
  return {
    ...inner,
    collection: <T extends Document>(name: string): Collection<T> => {
      const collection = inner.collection<T>(name);
      if (!owned.has(name)) return collection;
      return {
        ...collection,
        bulkWrite: async (ops: readonly WriteOp[]) => ({ applied: ops.length, duplicates: 0 }),
      };
    },
  };
};

/** One projector, as the app starts it (default settings), from no checkpoint to `head`. */
export const catchUp = async (
  eventStore: EventStore,
  readStore: ReadStore,
  projection: Projection,
  head: Position,
) => {
  const projections = startProjections({
    eventStore,
    readStore,
    logger: createLogger({ level: 'warn' }),
    config: loadConfig({}),
    projections: [projection],
  });
  try {
    if (!(await projections.waitForCheckpoint(projection.name, head, { timeoutMs: 3_600_000 })))
      throw new Error(`${projection.name} did not reach the head of the log`);
    const [stats] = await projections.stats();
    return stats?.batches ?? 0;
  } finally {
    await projections.stop();
  }
};

export type CatchUpVariant =
  | 'log read'
  | 'log read + handler'
  | 'projector, writes discarded'
  | 'projector, embedded read store';
export const CATCH_UP_VARIANTS: readonly CatchUpVariant[] = [
  'log read',
  'log read + handler',
  'projector, writes discarded',
  'projector, embedded read store',
];

/** One run of a variant; every projector run starts from a fresh read store in `dir`. */
export const runVariant = async (
  variant: CatchUpVariant,
  {
    eventStore,
    projection,
    head,
    dir,
    events,
  }: {
    eventStore: EventStore;
    projection: Projection;
    head: Position;
    dir: string;
    events: number;
  },
): Promise<Timed> => {
  if (variant === 'log read') return timed(events, () => readLog(eventStore, projection, head, false));
  if (variant === 'log read + handler')
    return timed(events, () => readLog(eventStore, projection, head, true));
  // On disk, as the app keeps its read models under DATA_DIR.
  const readStore = createEmbeddedReadStore({ file: join(dir, `read-models-${randomUUID()}.sqlite`) });
  try {
    const store =
      variant === 'projector, writes discarded' ? discardingWrites(readStore, projection) : readStore;
    return await timed(events, () => catchUp(eventStore, store, projection, head));
  } finally {
    await readStore.close();
  }
};
