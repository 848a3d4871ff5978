import { type EventStore, isCorruptEvent, type Position, type RecordedEvent } from './event-store.js';
import type { CorrelatedEvents } from './sqlite-correlation.js';

const PAGE = 1000;

/**
 * Every event written under one correlation id, found by reading the whole of `$all` through the
 * port: for a store without an index on it (EventStoreDB here: its `$bc-<id>` system projection
 * is off by default, and the client cannot filter `$all` on metadata). A damaged event is reported
 * and stepped over: its metadata cannot be trusted to say whether it belongs.
 */
export const scanForCorrelation = async (
  store: EventStore,
  correlationId: string,
  { onProgress }: { onProgress?: (scanned: number) => void } = {},
): Promise<CorrelatedEvents> => {
  const result: CorrelatedEvents = { events: [], damaged: [] };
  let after: Position | undefined;
  let scanned = 0;
  for (;;) {
    let page: Awaited<ReturnType<EventStore['readAll']>>;
    try {
      page = await store.readAll({ after, maxCount: PAGE });
    } catch (error) {
      if (!isCorruptEvent(error)) throw error;
      // The page was lost with its damaged event: read the events before it again, one by one.
      result.damaged.push(error);
      const before = await readUpTo(store, after, error.position);
      for (const event of before)
        if (event.metadata?.correlationId === correlationId) result.events.push(event);
      scanned += before.length + 1;
      after = error.position;
      continue;
    }
    for (const event of page) if (event.metadata?.correlationId === correlationId) result.events.push(event);
    scanned += page.length;
    onProgress?.(scanned);
    const last = page.at(-1);
    if (!last || page.length < PAGE) return result;
    after = last.position;
  }
};

/** The events after `after` and before the damaged one at `damaged`, read one at a time. */
const readUpTo = async (store: EventStore, after: Position | undefined, damaged: Position) => {
  const events: RecordedEvent[] = [];
  for (let cursor = after; ; ) {
    let next: RecordedEvent[];
    try {
      next = await store.readAll({ after: cursor, maxCount: 1 });
    } catch (error) {
      if (isCorruptEvent(error) && error.position === damaged) return events;
      throw error;
    }
    const [event] = next;
    if (!event || event.position >= damaged) return events;
    events.push(event);
    cursor = event.position;
  }
};
