/**
 * The event store port. Everything that reads or writes events goes through this interface, and
 * every adapter (EventStoreDB, SQLite, memory) passes the same contract suite
 * (event-store.contract.ts).
 *
 * Revisions count events within one stream from 0. Positions order every event in the store
 * (`$all`); they are opaque — compare them, store them, send them back, never do arithmetic on
 * them. In JSON a position is a decimal string (see `positionToJson`).
 */

export type Position = bigint;

/** `no_stream`: the stream must not exist; `exists`: it must; `any`: no check; a number: its last revision. */
export type ExpectedRevision = 'no_stream' | 'exists' | 'any' | number;

export type EventMetadata = {
  eventId: string;
  correlationId: string;
  /** The id of the message (command or event) that caused this event. */
  causationId: string;
  /** The subject the command acted for: who did it (the caller's token subject, or whom a saga acted for). */
  actor?: string;
  idempotencyKey?: string;
  /** Hash of the request that carried the idempotency key: a reuse of the key for another request is refused. */
  requestHash?: string;
  /** ISO 8601, stamped by the command pipeline, not by the store. */
  occurredAt: string;
  schemaVersion: number;
  /** W3C trace context of the command that appended the event, when tracing is on. */
  traceparent?: string;
};

export type EventData = {
  type: string;
  data: unknown;
  metadata: EventMetadata;
};

export type RecordedEvent = EventData & {
  streamId: string;
  revision: number;
  position: Position;
};

export type AppendResult = {
  /** Revision of the last event appended: the expected revision for the next append. */
  nextRevision: number;
  /** Position of the last event appended. */
  position: Position;
};

export type EventFilter = {
  /** Only events whose type is one of these. */
  eventTypes?: readonly string[];
  /** Only events from streams whose id starts with one of these. */
  streamPrefixes?: readonly string[];
};

export type ReadAllOptions = {
  /** Exclusive: the first event returned comes after this position. Default: the start. */
  after?: Position;
  maxCount?: number;
  filter?: EventFilter;
};

export type SubscribeOptions = {
  /** Exclusive, as in readAll. Default: the start of the log. */
  after?: Position;
  filter?: EventFilter;
  /** Aborting ends the iteration cleanly. */
  signal?: AbortSignal;
  /**
   * Called when the subscription has looked at every event up to `position` and yielded all that
   * match, so a filtered consumer can move its checkpoint past events it never sees. Never called
   * for a position before an event it has not yet yielded.
   */
  onCheckpoint?: (position: Position) => void;
};

export interface EventStore {
  /** Appends atomically, all or nothing. Throws WrongExpectedRevisionError when the check fails. */
  append(
    streamId: string,
    events: readonly EventData[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult>;

  /** The stream's events in revision order; an empty array when the stream does not exist. */
  readStream(streamId: string, options?: { fromRevision?: number }): Promise<RecordedEvent[]>;

  /** A page of `$all` in position order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;

  /**
   * Catch-up, then live: every matching event after `after`, in position order, with no gap and
   * no duplicate where catch-up turns into live. The iteration ends when `signal` aborts, and
   * throws if the underlying connection fails; callers resubscribe from the last position they saw.
   */
  subscribeToAll(options?: SubscribeOptions): AsyncIterable<RecordedEvent>;

  /** Position of the last event in `$all`, or undefined when the store is empty. */
  headPosition(): Promise<Position | undefined>;

  /**
   * Throws when the store could not take a write now (a read-only file or file system, a write
   * lock it cannot get), without writing anything. For readiness; a store without it (EventStoreDB,
   * where a write is the server's business) is checked by reading its head.
   */
  checkWrites?(): Promise<void>;

  /** The damaged events this store has come across since it was opened (the latest few), for readiness. */
  damagedEvents?(): readonly CorruptEventError[];

  /**
   * For streams kept only for a while (idempotency records), never for domain history: deletes
   * whole streams whose id starts with `prefix` and whose every event occurred (metadata.occurredAt)
   * before `olderThan`. Nothing else changes: no other event's position, and no position is used
   * again, because the stream holding the log's last event is kept until something follows it. A
   * stream with a damaged event is kept too, for `verify` to report. Returns how many streams went.
   * The embedded stores have it; EventStoreDB has setStreamMaxAge instead.
   */
  expireStreams?(prefix: string, olderThan: Date): Promise<number>;

  /**
   * Lets the store drop the stream's events once they are `maxAgeMs` old (EventStoreDB's `$maxAge`
   * stream metadata, rounded up to whole seconds). Stream reads may leave out events past that
   * age; reads of `$all` still return them until they are gone. On EventStoreDB they go when the
   * node scavenges, all but the stream's last event, which a scavenge always keeps.
   */
  setStreamMaxAge?(streamId: string, maxAgeMs: number): Promise<void>;

  close(): Promise<void>;
}

export class WrongExpectedRevisionError extends Error {
  override readonly name = 'WrongExpectedRevisionError';

  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** The stream's current last revision, or 'no_stream'. */
    readonly actual: number | 'no_stream',
  ) {
    super(`stream ${streamId}: expected revision ${String(expected)}, actual ${String(actual)}`);
  }
}

/**
 * The store could not be reached or did not answer: a transient failure (a connection refused or
 * lost, a client reconnecting, a deadline passed), worth trying again shortly. Adapters throw it
 * only for such failures, with the driver's error as `cause`; every other error is a fault.
 *
 * A read that throws it had no effect. An append that throws it may or may not have taken effect
 * (its answer may be what was lost): the caller finds out before deciding again, by reading the
 * stream for its event ids or idempotency key, or retries with the same event ids under the same
 * expected revision, which cannot land twice.
 */
export class EventStoreUnavailableError extends Error {
  override readonly name = 'EventStoreUnavailableError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export const isEventStoreUnavailable = (error: unknown): error is EventStoreUnavailableError =>
  error instanceof EventStoreUnavailableError;

/**
 * A stored event is not what was written: its checksum does not match its content, or its content
 * cannot be read back. Every read that meets it (a stream read, a page of `$all`, a subscription)
 * throws this instead of returning wrong data; a subscription first yields every event before it,
 * and can be resumed `after: position` to go on past it. Retrying does not help: the store's data
 * is damaged, and someone has to restore it (`npm run events -- verify` lists what is damaged).
 */
export class CorruptEventError extends Error {
  override readonly name = 'CorruptEventError';

  constructor(
    readonly streamId: string,
    readonly revision: number,
    readonly position: Position,
    /** What is wrong, e.g. `checksum mismatch` or `data is not JSON`. */
    readonly reason: string,
    /** The event's type as stored: like the rest, it cannot be trusted. */
    readonly storedType?: string,
  ) {
    super(
      `stream ${streamId}: the stored event at revision ${revision} (position ${position.toString(10)}) is damaged: ${reason}`,
    );
  }
}

export const isCorruptEvent = (error: unknown): error is CorruptEventError =>
  error instanceof CorruptEventError;

/** The damaged events a store has met, without repeats, the latest `limit` kept (for readiness). */
export const damagedEventLog = (limit = 20) => {
  const seen = new Map<Position, CorruptEventError>();
  return {
    /** Records the error and returns it, so that adapters can `throw damaged.record(error)`. */
    record(error: CorruptEventError): CorruptEventError {
      seen.delete(error.position);
      seen.set(error.position, error);
      if (seen.size > limit) seen.delete(seen.keys().next().value as Position);
      return error;
    },
    list: (): readonly CorruptEventError[] => [...seen.values()],
  };
};

export const positionToJson = (position: Position): string => position.toString(10);

/**
 * A position in JSON: a decimal integer of up to 39 digits, enough for 128 bits (EventStoreDB's
 * commit and prepare positions together, see eventstoredb-position.ts).
 */
export const POSITION_PATTERN = /^(0|[1-9][0-9]{0,38})$/;

export const positionFromJson = (text: string): Position | undefined =>
  POSITION_PATTERN.test(text) && BigInt(text) < 1n << 128n ? BigInt(text) : undefined;

export const matchesFilter = (
  event: Pick<RecordedEvent, 'type' | 'streamId'>,
  filter: EventFilter | undefined,
): boolean =>
  (!filter?.eventTypes || filter.eventTypes.includes(event.type)) &&
  (!filter?.streamPrefixes || filter.streamPrefixes.some((p) => event.streamId.startsWith(p)));

/** For expireStreams: the event's occurredAt is a time before `olderThan` (one that does not parse is not). */
export const occurredBefore = (event: Pick<RecordedEvent, 'metadata'>, olderThan: Date): boolean =>
  Date.parse(event.metadata.occurredAt) < olderThan.getTime();

/** Checks an expected revision against a stream's current last revision (undefined: no stream). */
export const checkExpectedRevision = (
  streamId: string,
  expected: ExpectedRevision,
  current: number | undefined,
): void => {
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && current === undefined) ||
    (expected === 'exists' && current !== undefined) ||
    expected === current;
  if (!ok) throw new WrongExpectedRevisionError(streamId, expected, current ?? 'no_stream');
};
