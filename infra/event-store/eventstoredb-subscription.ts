import {
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  BACKWARDS,
  ErrorType,
  type EventStoreDBClient,
  eventTypeFilter,
  excludeSystemEvents,
  type Filter,
  isCommandError,
  type ReadPosition,
  START,
  streamNameFilter,
} from '@eventstore/db-client';
import {
  type EventFilter,
  matchesFilter,
  type Position,
  type RecordedEvent,
  type SubscribeOptions,
} from './event-store.js';
import { resubscribing } from './resubscribe.js';

/**
 * subscribeToAll over EventStoreDB: a server-side filtered catch-up subscription, resubscribed from
 * the last position delivered when the connection drops (the client does not resubscribe by itself).
 *
 * A server checkpoint at P is taken to cover only the positions strictly before P. Some servers
 * (KurrentDB issue #4970, a regression fixed in 25.0.1 and a 24.10 patch) send a checkpoint equal
 * to the end of the log, which is where the next event is then written: treating P as looked at
 * would drop that event here, and a consumer resuming after P would never see it. So P - 1 is what
 * is reported and resubscribed from, and an event at P is still delivered.
 */
export async function* subscribeToAllOf(
  client: EventStoreDBClient,
  toRecorded: (resolved: AllStreamResolvedEvent) => RecordedEvent | undefined,
  { after, filter, signal, onCheckpoint }: SubscribeOptions,
): AsyncGenerator<RecordedEvent> {
  // Everything up to `delivered` has been yielded (or was a checkpoint): where a resubscription starts.
  let delivered = after;
  let reported = after;
  const report = (position: Position | undefined) => {
    if (position === undefined || (reported !== undefined && position <= reported)) return;
    reported = position;
    onCheckpoint?.(position);
  };
  const items = resubscribing(() => openSubscription(client, delivered, filter, signal), {
    isTransient,
    signal,
  });
  for await (const item of items) {
    if ('checkpoint' in item) {
      // Caught up means everything up to the last event delivered has been looked at. A checkpoint
      // that covers nothing beyond an event already yielded says nothing new.
      const position = item.checkpoint === CAUGHT_UP ? delivered : coveredBy(item.checkpoint);
      if (position === undefined || (delivered !== undefined && position < delivered)) continue;
      delivered = position;
      report(position);
      continue;
    }
    const position = item.event?.position?.commit;
    // After a resubscription the server may repeat what was delivered before: drop it.
    if (position === undefined || (delivered !== undefined && position <= delivered)) continue;
    delivered = position;
    const event = toRecorded(item);
    if (event && matchesFilter(event, filter)) yield event;
  }
}

/** The last position a server checkpoint vouches for: strictly before it (see above); none for 0. */
const coveredBy = (checkpoint: Position): Position | undefined =>
  checkpoint > 0n ? checkpoint - 1n : undefined;

const CAUGHT_UP = Symbol('caught up');
type Checkpoint = { checkpoint: Position | typeof CAUGHT_UP };
type Item = AllStreamResolvedEvent | Checkpoint;

class SubscriptionEndedError extends Error {
  override readonly name = 'SubscriptionEndedError';
}

const TRANSIENT: readonly ErrorType[] = [
  ErrorType.UNAVAILABLE,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.TIMEOUT,
  ErrorType.NOT_LEADER,
  ErrorType.CANCELLED,
];

/** A dropped connection, a leader change, a timeout, a server-side end: worth subscribing again. */
const isTransient = (error: unknown) =>
  error instanceof SubscriptionEndedError ||
  (error instanceof Error && isCommandError(error) && TRANSIENT.includes(error.type));

/** One subscription from just after `after`, until it fails, ends, or `signal` aborts. */
async function* openSubscription(
  client: EventStoreDBClient,
  after: Position | undefined,
  filter: EventFilter | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<Item> {
  if (signal?.aborted) return;
  const fromPosition = await startAfter(client, after);
  // The client reports checkpoints and catching up through a callback and an event, raised while it
  // transforms that server message, after it has pushed every earlier event into the stream. Pushing
  // a marker into the same stream keeps it in order: it reaches us only after those events.
  const subscription: AllStreamSubscription = client.subscribeToAll({
    fromPosition,
    filter: serverFilter(filter, (sub, position) => {
      sub.push({ checkpoint: position.commit } satisfies Checkpoint);
    }),
  });
  subscription.on('caughtUp', () => subscription.push({ checkpoint: CAUGHT_UP } satisfies Checkpoint));
  const iterator = subscription[Symbol.asyncIterator]();
  let onAbort = () => {};
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  let live = false;
  try {
    while (!signal?.aborted) {
      const next = iterator.next();
      const outcome = await Promise.race([next, aborted]);
      if (outcome === 'aborted') {
        next.catch(() => {}); // settles with the stream's teardown below
        return;
      }
      if (outcome.done) throw new SubscriptionEndedError('EventStoreDB ended the subscription');
      const item = outcome.value as Item;
      yield item;
      if ('checkpoint' in item) {
        live ||= item.checkpoint === CAUGHT_UP;
      } else if (live && subscription.readableLength === 0) {
        // Live, and nothing more has arrived: as far as we can tell we are at the head again, so
        // a filtered consumer gets its checkpoint after each burst, not only every search window.
        yield { checkpoint: CAUGHT_UP };
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    void subscription.unsubscribe().catch(() => {});
    subscription.destroy();
  }
}

/**
 * Subscribing from a position starts after the event at that position (the server reads one event
 * from it and goes on from the next). Every position we hand out is an event's position, except a
 * checkpoint, which may fall between events; then we start from the last event before it instead,
 * and the caller drops whatever is not after `after`.
 */
const startAfter = async (client: EventStoreDBClient, after: Position | undefined): Promise<ReadPosition> => {
  if (after === undefined) return START;
  const exact = { commit: after, prepare: after };
  const [atOrAfter] = await collect(client.readAll({ fromPosition: exact, maxCount: 1 }));
  if (atOrAfter?.event?.position?.commit === after) return exact;
  const [before] = await collect(client.readAll({ fromPosition: exact, direction: BACKWARDS, maxCount: 1 }));
  return before?.event?.position ?? START;
};

const collect = async <T>(stream: AsyncIterable<T>): Promise<T[]> => {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
};

/**
 * The filter the server applies. It filters on event type or on stream name, not both: with both,
 * it takes the stream prefixes and the event types are matched here. Without a filter it still
 * drops system events, and a filter makes the server send checkpoints (every window of events it
 * looks at), which is how a filtered consumer moves past events it never sees.
 */
const serverFilter = (
  filter: EventFilter | undefined,
  checkpointReached: NonNullable<Filter['checkpointReached']>,
): Filter => {
  const prefixes = filter?.streamPrefixes;
  const types = filter?.eventTypes;
  if (prefixes?.length) return streamNameFilter({ prefixes: [...prefixes], checkpointReached });
  if (types?.length) return eventTypeFilter({ regex: exactly(types), checkpointReached });
  return excludeSystemEvents({ checkpointReached });
};

/** A regular expression matching exactly these event types (EventStoreDB filters by regex or prefix). */
export const exactly = (types: readonly string[]): string =>
  `^(?:${types.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;
