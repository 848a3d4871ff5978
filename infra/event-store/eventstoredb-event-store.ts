import { createHash } from 'node:crypto';
import {
  type AllStreamResolvedEvent,
  ANY,
  type AppendExpectedRevision,
  BACKWARDS,
  END,
  type Position as EsdbPosition,
  EventStoreDBClient,
  FORWARDS,
  type JSONType,
  jsonEvent,
  NO_STREAM,
  type ReadPosition,
  type ResolvedEvent,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import {
  type EventData,
  type EventMetadata,
  type EventStore,
  type ExpectedRevision,
  matchesFilter,
  type Position,
  type RecordedEvent,
  WrongExpectedRevisionError,
} from './event-store.js';
import { subscribeToAllOf } from './eventstoredb-subscription.js';

/**
 * The event store on EventStoreDB (gRPC client v6, server 23.10 or later). On 24.10 or 25.0 run a
 * current patch (25.0.1 or later on 25.0) with the fix for KurrentDB issue #4970: a filtered `$all`
 * subscription could send a checkpoint equal to the end of the log, the position the next event
 * then takes. The subscription here does not lose that event (eventstoredb-subscription.ts), but
 * other consumers of the same server may.
 *
 * Positions: our Position is EventStoreDB's commit position. Every event appended through gRPC is
 * written as its own implicitly committed record, and reading `$all` gives each such event
 * commit = prepare = its own log position: unique and strictly increasing, also between the events
 * of one multi-event append, which are written one after the other. An append answers with the
 * commit position of its last event. So one number orders everything, and { commit: p, prepare: p }
 * names the event at p again when we hand a position back. (In the server: StorageWriterService
 * writes one IsCommitted prepare per event; AllReader reports such a prepare at its LogPosition.)
 *
 * System events (a `$` type or stream) are not ours: reads and subscriptions skip them.
 */
export const createEventStoreDbEventStore = (connection: string | EventStoreDBClient): EventStore => {
  // A connection string, or a client configured some other way (certificates, credentials).
  const client =
    typeof connection === 'string' ? EventStoreDBClient.connectionString(connection) : connection;

  const currentRevision = async (streamId: string): Promise<number | 'no_stream'> => {
    try {
      for await (const { event } of client.readStream(streamId, {
        direction: BACKWARDS,
        fromRevision: END,
        maxCount: 1,
      })) {
        if (event) return Number(event.revision);
      }
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    return 'no_stream';
  };

  return {
    async append(streamId, events, { expectedRevision }) {
      if (events.length === 0) throw new Error('append needs at least one event');
      if (
        typeof expectedRevision === 'number' &&
        !(Number.isSafeInteger(expectedRevision) && expectedRevision >= 0)
      ) {
        // No stream can be at this revision: fail as a stale revision does, with the actual one.
        throw new WrongExpectedRevisionError(streamId, expectedRevision, await currentRevision(streamId));
      }
      try {
        const result = await client.appendToStream(streamId, events.map(toEventData), {
          expectedRevision: toExpected(expectedRevision),
        });
        if (!result.position) throw new Error('EventStoreDB acknowledged an append without its position');
        return { nextRevision: Number(result.nextExpectedRevision), position: result.position.commit };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        const actual = error.actualVersion === NO_STREAM ? 'no_stream' : Number(error.actualVersion);
        throw new WrongExpectedRevisionError(streamId, expectedRevision, actual);
      }
    },

    async readStream(streamId, { fromRevision = 0 } = {}) {
      const events: RecordedEvent[] = [];
      try {
        for await (const resolved of client.readStream(streamId, { fromRevision: BigInt(fromRevision) })) {
          const event = toRecorded(resolved);
          if (event) events.push(event);
        }
      } catch (error) {
        if (!(error instanceof StreamNotFoundError)) throw error;
      }
      return events;
    },

    async readAll({ after, maxCount = Number.MAX_SAFE_INTEGER, filter } = {}) {
      // The client reads `$all` without a server-side filter: page through it and filter here.
      // Reading from a position includes the event at it, so `after` and each page's first event
      // (the last of the page before) are dropped by the position check.
      const events: RecordedEvent[] = [];
      let from: ReadPosition = after === undefined ? START : { commit: after, prepare: after };
      let last = after;
      while (events.length < maxCount) {
        let read = 0;
        const page: AsyncIterable<AllStreamResolvedEvent> = client.readAll({
          fromPosition: from,
          maxCount: PAGE,
          direction: FORWARDS,
        });
        for await (const resolved of page) {
          read += 1;
          const position: EsdbPosition | undefined = resolved.event?.position;
          if (!position || (last !== undefined && position.commit <= last)) continue;
          [from, last] = [position, position.commit];
          const event = toRecorded(resolved);
          if (event && matchesFilter(event, filter)) events.push(event);
          if (events.length === maxCount) break;
        }
        if (read < PAGE) break;
      }
      return events;
    },

    subscribeToAll(options = {}) {
      return subscribeToAllOf(client, toRecorded, options);
    },

    async headPosition() {
      // The last event that is ours: subscribers never see system events, so a head among them
      // would be a position they could not reach.
      let from: ReadPosition = END;
      for (;;) {
        let read = 0;
        for await (const resolved of client.readAll({
          fromPosition: from,
          maxCount: PAGE,
          direction: BACKWARDS,
        })) {
          read += 1;
          if (toRecorded(resolved)) return resolved.event?.position?.commit;
          if (resolved.event?.position) from = resolved.event.position;
        }
        if (read < PAGE) return undefined;
      }
    },

    async close() {
      await client.dispose();
    },
  };
};

const PAGE = 500;

const toExpected = (expected: ExpectedRevision): AppendExpectedRevision =>
  expected === 'no_stream'
    ? NO_STREAM
    : expected === 'exists'
      ? STREAM_EXISTS
      : expected === 'any'
        ? ANY
        : BigInt(expected);

const toEventData = ({ type, data, metadata }: EventData) =>
  jsonEvent({ id: toEventId(metadata.eventId), type, data: data as JSONType, metadata });

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
  return {
    streamId: event.streamId,
    revision: Number(event.revision),
    position: event.position.commit satisfies Position,
    type: event.type,
    data: event.data,
    metadata: event.metadata as EventMetadata,
  };
};
