import {
  type EventFilter,
  type EventStore,
  matchesFilter,
  type Position,
} from '../../infra/event-store/event-store.js';
import type { Projection } from './projection.js';

/**
 * How far past `after` the log holds nothing a projection reads: the position of the last event
 * before the first one it reads, looking at one page of `$all` at most (bounded work per ask; a
 * projection whose events are that far behind is caught up by its own checkpoints soon enough).
 */
export const skippableIn =
  (eventStore: EventStore, filters: ReadonlyMap<string, EventFilter>, pageSize = 256) =>
  async (projection: string, after: Position | undefined): Promise<Position | undefined> => {
    const filter = filters.get(projection);
    if (!filter) return undefined;
    let clear: Position | undefined;
    for (const event of await eventStore.readAll({ after, maxCount: pageSize })) {
      if (matchesFilter(event, filter)) return clear;
      clear = event.position;
    }
    return clear;
  };

/** skippableIn for these projections, each with its own subscription filter. */
export const skippableFor = (eventStore: EventStore, projections: readonly Projection[]) =>
  skippableIn(
    eventStore,
    new Map(
      projections.map(({ name, eventTypes, streamPrefixes }) => [name, { eventTypes, streamPrefixes }]),
    ),
  );

export type Skippable = ReturnType<typeof skippableIn>;
