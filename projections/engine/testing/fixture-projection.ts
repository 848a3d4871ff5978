import { z } from 'zod';
import { streamIdFor } from '../../../domain/shared/decider.js';
import { CounterEvent, counterAggregate, counterEventTypes } from '../../../domain/shared/testing/counter.js';
import type { Cache } from '../../../infra/cache/cache.js';
import type { RecordedEvent } from '../../../infra/event-store/event-store.js';
import type { Document } from '../../../infra/read-store/read-store.js';
import type { ModuleProjections } from '../../projection-module.js';
import { cacheDocuments } from '../cache-documents.js';
import { occurredAt } from '../event-time.js';
import { guardedUpsert } from '../guarded-upsert.js';
import type { Projection } from '../projection.js';

/**
 * The engine's fixture read models, over the fixture counter (domain/shared/testing/counter.ts):
 * what the projector, parking, rebuild and start-up tests project, so that they need no example.
 * Two projections, as a module usually has: a summary per counter (kept in the cache too) and a
 * row per change, which reads only some of the counter's event types.
 */

export const COUNTERS_PROJECTION = 'counters';
export const COUNTERS = 'counters';
export const COUNTER_CHANGES_PROJECTION = 'counter-changes';
export const COUNTER_CHANGES = 'counter_changes';
export const COUNTER_STREAM_PREFIX = `${counterAggregate.category}-`;

/** One per counter: its summary as of `revision` of its stream. */
export type CounterDocument = Document & {
  counterId: string;
  owner: string;
  total: number;
  status: 'open' | 'closed';
  revision: number;
  openedAt: string;
  updatedAt: string;
};

/** One per increment or decrement; `_id` is `<counterId>:<revision>`. */
export type CounterChangeDocument = Document & {
  counterId: string;
  revision: number;
  kind: 'increment' | 'decrement';
  amount: number;
  totalAfter: number;
  note: string | null;
  at: string;
};

export const counterCacheKey = (counterId: string): string => `counter:${counterId}`;

/** A recorded counter event, checked; one filed under another counter's stream throws (and is parked). */
export const readCounterEvent = (recorded: RecordedEvent): { event: CounterEvent; at: string } => {
  const parsed = CounterEvent.safeParse(recorded);
  if (!parsed.success) throw new Error(`invalid ${recorded.type}: ${z.prettifyError(parsed.error)}`);
  const event = parsed.data;
  const expected = streamIdFor(counterAggregate, event.data.counterId);
  if (recorded.streamId !== expected)
    throw new Error(`${event.type} for ${event.data.counterId} is in stream ${recorded.streamId}`);
  return { event, at: occurredAt(recorded) };
};

/** The `counters` read model, listed by owner or status in id order; optionally cached. */
export const countersProjection = ({
  cache,
}: {
  cache?: { cache: Cache; ttlSeconds: number };
} = {}): Projection => ({
  name: COUNTERS_PROJECTION,
  eventTypes: counterEventTypes,
  streamPrefixes: [COUNTER_STREAM_PREFIX],
  collections: [
    { name: COUNTERS, indexes: [{ keys: { owner: 1, _id: 1 } }, { keys: { status: 1, _id: 1 } }] },
  ],
  handle(recorded) {
    const { event, at } = readCounterEvent(recorded);
    const write = (fields: Partial<CounterDocument>) => ({
      [COUNTERS]: [
        guardedUpsert(event.data.counterId, recorded.revision, { $set: { ...fields, updatedAt: at } }),
      ],
    });
    switch (event.type) {
      case 'CounterOpened':
        return write({
          counterId: event.data.counterId,
          owner: event.data.owner,
          total: 0,
          status: 'open',
          openedAt: at,
        });
      case 'Incremented':
      case 'Decremented':
        return write({ total: event.data.total });
      case 'CounterClosed':
        return write({ status: 'closed' });
    }
  },
  ...(cache && {
    afterFlush: cacheDocuments<CounterDocument>({
      cache: cache.cache,
      collection: COUNTERS,
      key: counterCacheKey,
      version: (doc) => doc.revision,
      value: ({ _id, ...summary }) => summary,
      ttlSeconds: cache.ttlSeconds,
    }),
  }),
});

/** The `counter_changes` read model: each counter's changes, in revision order. */
export const counterChangesProjection = (): Projection => ({
  name: COUNTER_CHANGES_PROJECTION,
  eventTypes: ['Incremented', 'Decremented'],
  streamPrefixes: [COUNTER_STREAM_PREFIX],
  collections: [{ name: COUNTER_CHANGES, indexes: [{ keys: { counterId: 1, revision: 1 } }] }],
  handle(recorded) {
    const { event, at } = readCounterEvent(recorded);
    if (event.type !== 'Incremented' && event.type !== 'Decremented')
      throw new Error(`${COUNTER_CHANGES_PROJECTION} does not read ${event.type}`);
    const { counterId, amount, total, note } = event.data;
    const change: Omit<CounterChangeDocument, '_id' | 'revision'> = {
      counterId,
      kind: event.type === 'Incremented' ? 'increment' : 'decrement',
      amount,
      totalAfter: total,
      note: note ?? null,
      at,
    };
    return {
      [COUNTER_CHANGES]: [
        guardedUpsert(`${counterId}:${recorded.revision}`, recorded.revision, { $set: change }),
      ],
    };
  },
});

/** Both, as a module's projections (app/testing/fixture-module.ts). */
export const fixtureProjections: ModuleProjections = ({ cache }) => [
  countersProjection({ cache }),
  counterChangesProjection(),
];
