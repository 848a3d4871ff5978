import {
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  ErrorType,
  type EventStoreDBClient,
  eventTypeFilter,
  excludeSystemEvents,
  type Filter,
  isCommandError,
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
import { isTransientEsdbError } from './eventstoredb-errors.js';
import { fromEsdbPosition, toEsdbPosition } from './eventstoredb-position.js';
import { resubscribing } from './resubscribe.js';

/**
 * subscribeToAll over EventStoreDB: a server-side filtered catch-up subscription, resubscribed from
 * the last position delivered when the connection drops (the client does not resubscribe by itself).
 *
 * Positions are used exactly as the server gave them. A subscription from P delivers only what comes
 * after P, and every checkpoint the server sends is a record boundary it accepts as a start, so
 * "the last event delivered, or the last checkpoint if later" is where a resubscription starts and
 * what a consumer may store and resume from. Whatever a server repeats across a resubscription (a
 * checkpoint at the start of a page already sent, say) is at or before that and dropped here.
 */
export async function* subscribeToAllOf(
  client: EventStoreDBClient,
  toRecorded: (resolved: AllStreamResolvedEvent) => RecordedEvent | undefined,
  { after, filter, signal, onCheckpoint }: SubscribeOptions,
): AsyncGenerator<RecordedEvent> {
  // Everything up to `delivered` has been yielded (or covered by a checkpoint): where a
  // resubscription starts.
  let delivered = after;
  let reported = after;
  const report = (position: Position) => {
    if (reported !== undefined && position <= reported) return;
    reported = position;
    onCheckpoint?.(position);
  };
  const items = resubscribing(() => openSubscription(client, delivered, filter, signal), {
    isTransient,
    signal,
  });
  for await (const item of items) {
    if ('checkpoint' in item) {
      // Caught up: everything up to the last event delivered has been looked at. A checkpoint that
      // covers nothing beyond what was already yielded says nothing new.
      const position = item.checkpoint === CAUGHT_UP ? delivered : item.checkpoint;
      if (position === undefined || (delivered !== undefined && position < delivered)) continue;
      delivered = position;
      report(position);
      continue;
    }
    const recorded = item.event?.position;
    if (!recorded) continue;
    const position = fromEsdbPosition(recorded);
    if (delivered !== undefined && position <= delivered) continue;
    delivered = position;
    // The filter first: a damaged event this subscriber does not read is not its business.
    if (!item.event || !matchesFilter(item.event, filter)) continue;
    const event = toRecorded(item);
    if (event) yield event;
  }
}

const CAUGHT_UP = Symbol('caught up');
type Checkpoint = { checkpoint: Position | typeof CAUGHT_UP };
type Item = AllStreamResolvedEvent | Checkpoint;

class SubscriptionEndedError extends Error {
  override readonly name = 'SubscriptionEndedError';
}

/** A dropped connection, a leader change, a timeout, a server-side end: worth subscribing again. */
const isTransient = (error: unknown) =>
  error instanceof SubscriptionEndedError ||
  isTransientEsdbError(error) ||
  (error instanceof Error && isCommandError(error) && error.type === ErrorType.CANCELLED);

/** One subscription from just after `after`, until it fails, ends, or `signal` aborts. */
async function* openSubscription(
  client: EventStoreDBClient,
  after: Position | undefined,
  filter: EventFilter | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<Item> {
  if (signal?.aborted) return;
  // The client reports checkpoints and catching up through a callback and an event, raised while it
  // transforms that server message, after it has pushed every earlier event into the stream. Pushing
  // a marker into the same stream keeps it in order: it reaches us only after those events.
  const subscription: AllStreamSubscription = client.subscribeToAll({
    fromPosition: after === undefined ? START : toEsdbPosition(after),
    filter: serverFilter(filter, (sub, position) => {
      sub.push({ checkpoint: fromEsdbPosition(position) } satisfies Checkpoint);
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
