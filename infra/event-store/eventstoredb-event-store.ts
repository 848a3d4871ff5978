import { createHash } from 'node:crypto';
import {
  type AllStreamResolvedEvent,
  ANY,
  type AppendExpectedRevision,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  type JSONType,
  jsonEvent,
  NO_STREAM,
  type ReadPosition,
  type ResolvedEvent,
  START,
  STREAM_EXISTS,
  type StreamingRead,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { eventChecksum } from './checksum.js';
import {
  CorruptEventError,
  damagedEventLog,
  type EventData,
  type EventMetadata,
  type EventStore,
  type ExpectedRevision,
  matchesFilter,
  type RecordedEvent,
  WrongExpectedRevisionError,
} from './event-store.js';
import { unavailableOnTransient } from './eventstoredb-errors.js';
import { fromEsdbPosition, toEsdbPosition } from './eventstoredb-position.js';
import { APPEND_FAILURES_REFUSED, disablesAppendFailures } from './eventstoredb-settings.js';
import { subscribeToAllOf } from './eventstoredb-subscription.js';

/**
 * The event store on EventStoreDB (gRPC client v6, server 23.10 or later).
 *
 * Positions are the server's (commit, prepare) pairs, kept whole (eventstoredb-position.ts), and
 * every position handed back to the server is one it gave: it refuses any other.
 *
 * Every read that is left before its end is cancelled. The client reads without a deadline, and
 * leaving a `for await` early does not end the gRPC call: once flow control stops the server, the
 * call holds one of the connection's 100 concurrent streams for good, and after about 100 of them
 * every later call on the connection, appends included, waits forever.
 *
 * Transient failures (server unreachable, the client reconnecting, a deadline) surface as the
 * port's EventStoreUnavailableError, which the command pipeline retries and answers with 503.
 *
 * System events (a `$` type or stream) are not ours: reads and subscriptions skip them.
 *
 * Every event appended here carries a checksum of its content in its metadata (CHECKSUM_KEY),
 * checked on every read: a mismatch is the port's CorruptEventError. Events written by others,
 * without one, are read unchecked.
 */
export const createEventStoreDbEventStore = (connection: string | EventStoreDBClient): EventStore => {
  // A connection string, or a client configured some other way (certificates, credentials).
  if (typeof connection === 'string') refuseUnsupportedSettings(connection);
  const client =
    typeof connection === 'string' ? EventStoreDBClient.connectionString(connection) : connection;
  const damaged = damagedEventLog();
  const recorded = (resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | undefined => {
    try {
      return toRecorded(resolved);
    } catch (error) {
      throw error instanceof CorruptEventError ? damaged.record(error) : error;
    }
  };

  const currentRevision = async (streamId: string): Promise<number | 'no_stream'> => {
    try {
      const [last] = await take(
        client.readStream(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: 1 }),
        1,
      );
      if (last?.event) return Number(last.event.revision);
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    return 'no_stream';
  };

  return {
    append: (streamId, events, { expectedRevision }) =>
      unavailableOnTransient('append', async () => {
        if (events.length === 0) throw new Error('append needs at least one event');
        if (
          typeof expectedRevision === 'number' &&
          !(Number.isSafeInteger(expectedRevision) && expectedRevision >= 0)
        ) {
          // No stream can be at this revision: fail as a stale revision does, with the actual one.
          throw new WrongExpectedRevisionError(streamId, expectedRevision, await currentRevision(streamId));
        }
        try {
          const result = await client.appendToStream(streamId, events.map(toEventData(streamId)), {
            expectedRevision: toExpected(expectedRevision),
          });
          if (!result.success) {
            // A client built with throwOnAppendFailure=false answers a conflict in-band.
            throw new WrongExpectedRevisionError(streamId, expectedRevision, await currentRevision(streamId));
          }
          if (!result.position) throw new Error('EventStoreDB acknowledged an append without its position');
          return {
            nextRevision: Number(result.nextExpectedRevision),
            position: fromEsdbPosition(result.position),
          };
        } catch (error) {
          if (!(error instanceof WrongExpectedVersionError)) throw error;
          const actual = error.actualVersion === NO_STREAM ? 'no_stream' : Number(error.actualVersion);
          throw new WrongExpectedRevisionError(streamId, expectedRevision, actual);
        }
      }),

    readStream: (streamId, { fromRevision = 0 } = {}) =>
      unavailableOnTransient('read stream', async () => {
        try {
          const read = await take(client.readStream(streamId, { fromRevision: BigInt(fromRevision) }));
          return read.flatMap((resolved) => recorded(resolved) ?? []);
        } catch (error) {
          if (error instanceof StreamNotFoundError) return [];
          throw error;
        }
      }),

    readAll: ({ after, maxCount = Number.MAX_SAFE_INTEGER, filter } = {}) =>
      unavailableOnTransient('read $all', async () => {
        // The client reads `$all` without a server-side filter: page through it and filter here.
        // A forward read from a position includes the event at it, so `after` (and each page's
        // first event, the last of the page before) is dropped by the position check.
        const events: RecordedEvent[] = [];
        let from: ReadPosition = after === undefined ? START : toEsdbPosition(after);
        let last = after;
        while (events.length < maxCount) {
          const page: AllStreamResolvedEvent[] = await take(
            client.readAll({ fromPosition: from, maxCount: PAGE, direction: FORWARDS }),
          );
          for (const resolved of page) {
            const position = resolved.event?.position;
            if (!position) continue;
            const at = fromEsdbPosition(position);
            if (last !== undefined && at <= last) continue;
            [from, last] = [position, at];
            if (!resolved.event || !matchesFilter(resolved.event, filter)) continue;
            const event = recorded(resolved);
            if (event) events.push(event);
            if (events.length === maxCount) break;
          }
          if (page.length < PAGE) break;
        }
        return events;
      }),

    subscribeToAll(options = {}) {
      return subscribeToAllOf(client, recorded, options);
    },

    headPosition: () =>
      unavailableOnTransient('read head', async () => {
        // The last event that is ours: subscribers never see system events, so a head among them
        // would be a position they could not reach. Usually the very last record is ours.
        let from: ReadPosition = END;
        for (let size = 1; ; size = PAGE) {
          const page: AllStreamResolvedEvent[] = await take(
            client.readAll({ fromPosition: from, maxCount: size, direction: BACKWARDS }),
          );
          for (const resolved of page) {
            const position = resolved.event?.position;
            if (!position) continue;
            // Only whether it is ours: a damaged head is still the head.
            const event = resolved.event;
            if (event && !isSystem(event.type, event.streamId)) return fromEsdbPosition(position);
            from = position;
          }
          if (page.length < size) return undefined;
        }
      }),

    damagedEvents: damaged.list,

    // An append of a `$metadata` event to `$$<stream>` (the client's setStreamMetadata); `$maxAge`
    // is in whole seconds. A scavenge removes the events past it, except the stream's last one
    // (KurrentDB's EventCalculator keeps every stream's last event; only a tombstone lets it go).
    setStreamMaxAge: (streamId, maxAgeMs) =>
      unavailableOnTransient('set stream metadata', async () => {
        await client.setStreamMetadata(streamId, { maxAge: Math.max(1, Math.ceil(maxAgeMs / 1000)) });
      }),

    async close() {
      await client.dispose();
    },
  };
};

const PAGE = 500;

/**
 * Up to `limit` items of a read, then the call is ended: a read left early is cancelled (see
 * above), and so is one that failed, so no gRPC stream outlives the function.
 */
const take = async <T>(read: StreamingRead<T>, limit = Number.POSITIVE_INFINITY): Promise<T[]> => {
  const items: T[] = [];
  let finished = false;
  try {
    if (limit > 0) {
      for await (const item of read) {
        items.push(item);
        if (items.length >= limit) break;
      }
    }
    finished = items.length < limit;
  } finally {
    if (!finished) void read.cancel().catch(() => {});
  }
  return items;
};

/** Refuses, at start-up, connection settings the adapter cannot work with. */
export const refuseUnsupportedSettings = (connectionString: string): void => {
  if (disablesAppendFailures(connectionString)) throw new Error(`EVENTSTORE_URL: ${APPEND_FAILURES_REFUSED}`);
};

const toExpected = (expected: ExpectedRevision): AppendExpectedRevision =>
  expected === 'no_stream'
    ? NO_STREAM
    : expected === 'exists'
      ? STREAM_EXISTS
      : expected === 'any'
        ? ANY
        : BigInt(expected);

/**
 * Where the checksum goes in an event's metadata: eventChecksum() of the stream id, the type and the
 * JSON text of the data and of the metadata without this key (the revision is left out: with 'any'
 * or 'exists' the server assigns it after the checksum is made). The client writes JSON with
 * JSON.stringify and parses it on the way back, so stringifying what it returns gives back the
 * text that was hashed, unless it was changed.
 */
export const CHECKSUM_KEY = 'eventfoldChecksum';

const checksumOf = (streamId: string, type: string, data: unknown, metadata: unknown) =>
  eventChecksum({
    streamId,
    type,
    data: JSON.stringify(data) ?? '',
    metadata: JSON.stringify(metadata) ?? '',
  });

// `data: undefined` would make the client throw inside its encoder, an unhandled rejection that
// ends the process; it is stored as JSON null, as the SQLite store stores it.
const toEventData =
  (streamId: string) =>
  ({ type, data, metadata }: EventData) =>
    jsonEvent({
      id: toEventId(metadata.eventId),
      type,
      data: (data ?? null) as JSONType,
      metadata: { ...metadata, [CHECKSUM_KEY]: checksumOf(streamId, type, data ?? null, metadata) },
    });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * EventStoreDB needs a UUID as event id (it also uses it to make retried appends idempotent). Our
 * eventId is used as is when it is one; otherwise a UUID derived from it stands in, the same every
 * time. The metadata keeps the original either way.
 */
export const toEventId = (eventId: string): string => {
  if (UUID.test(eventId)) return eventId;
  const hex = createHash('sha256').update(eventId).digest('hex');
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

export const isSystem = (type: string, streamId: string): boolean =>
  type.startsWith('$') || streamId.startsWith('$');

const toRecorded = (resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | undefined => {
  const event = resolved.event;
  if (!event || isSystem(event.type, event.streamId)) return undefined;
  if (!event.position)
    throw new Error('EventStoreDB returned an event without its position (server before 22.6?)');
  const position = fromEsdbPosition(event.position);
  let metadata = event.metadata as unknown;
  if (isPlainObject(metadata) && CHECKSUM_KEY in metadata) {
    const { [CHECKSUM_KEY]: checksum, ...rest } = metadata;
    if (checksum !== checksumOf(event.streamId, event.type, event.data, rest))
      throw new CorruptEventError(
        event.streamId,
        Number(event.revision),
        position,
        'its checksum does not match its content',
        event.type,
      );
    metadata = rest;
  }
  return {
    streamId: event.streamId,
    revision: Number(event.revision),
    position,
    type: event.type,
    data: event.data,
    metadata: metadata as EventMetadata,
  };
};

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
