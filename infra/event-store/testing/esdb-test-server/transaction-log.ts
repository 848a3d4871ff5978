import { randomUUID } from 'node:crypto';
import { comparePositions, type LogPosition } from './log-position.js';

/**
 * The in-memory transaction log: records laid end to end, each starting at the byte offset where the
 * one before it ends. Positions are those offsets, so they are sparse and unevenly spaced, as on a
 * real node. Record lengths follow the layout of the server's log records closely enough that a
 * bigger event takes more room.
 */

export type EventRecord = {
  /** Where the record starts: the event's prepare position. */
  readonly position: number;
  /** Where the next record starts. */
  readonly end: number;
  /** The event's commit position: its own position, or for a legacy transaction that of its commit record. */
  readonly commit: number;
  /** Where the record that committed the event ends (its own end, or the commit record's). */
  readonly commitEnd: number;
  /** Written as its own implicitly committed record (every gRPC append), not by an explicit transaction. */
  readonly selfCommitted: boolean;
  readonly streamId: string;
  readonly revision: number;
  readonly eventId: string;
  readonly type: string;
  readonly isJson: boolean;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
  /** 100-nanosecond ticks since the Unix epoch, as the server sends `created`. */
  readonly created: bigint;
};

export type ProposedEvent = {
  eventId: string;
  type: string;
  isJson: boolean;
  data: Uint8Array;
  metadata: Uint8Array;
};

/** 'no_stream' means the stream must not exist; a number is the revision of its last event. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

export type AppendOutcome =
  | { ok: true; currentRevision: number | undefined; position: number | undefined }
  | { ok: false; currentRevision: number | undefined };

/** One page of a forward read of `$all`, with the fields the server's subscription logic looks at. */
export type ForwardPage = {
  events: EventRecord[];
  /** Where the page was read from. */
  currentPos: LogPosition;
  /** Where the next page starts: after a self-committed event (end, 0); inside a transaction (commit, end). */
  nextPos: LogPosition;
  /** Set only when the read ran out of committed records, not when it stopped at maxCount or the window. */
  isEndOfStream: boolean;
  /** Events looked at (matching or not). */
  considered: number;
};

export type CommittedListener = (event: EventRecord) => void;

// Sizes of the parts of a log record (LogV2): length prefix and suffix, record header, the prepare's
// fixed fields, the commit record's fields, a system record's fields.
const FRAME = 8;
const HEADER = 10;
const PREPARE_FIXED = 2 + 8 + 4 + 8 + 16 + 16 + 8 + 4 + 4;
const COMMIT_FIXED = 8 + 8 + 8 + 16 + 8;
const SYSTEM_FIXED = 8 + 1 + 1 + 8 + 4;

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');
const varintLength = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4);
const stringLength = (text: string) => varintLength(utf8(text)) + utf8(text);

const prepareLength = (streamId: string, event: ProposedEvent) =>
  FRAME +
  HEADER +
  PREPARE_FIXED +
  stringLength(streamId) +
  stringLength(event.type) +
  event.data.byteLength +
  event.metadata.byteLength;

const COMMIT_LENGTH = FRAME + HEADER + COMMIT_FIXED;

/** 100-nanosecond ticks since the Unix epoch, from milliseconds. */
const ticks = (ms: number): bigint => BigInt(ms) * 10_000n;

const json = (value: unknown) => new Uint8Array(Buffer.from(JSON.stringify(value), 'utf8'));

export type TransactionLog = ReturnType<typeof createTransactionLog>;

export const createTransactionLog = () => {
  let end = 0;
  // The node's clock, which a test can move on (advanceClock): when events are `created`, and how
  // old they are for `$maxAge`.
  let clockOffsetMs = 0;
  const now = () => Date.now() + clockOffsetMs;
  // Start of every record: the only places a read can start (besides the end of the log).
  const recordStarts = new Set<number>();
  // Events in `$all` order: by (commit, prepare). A legacy transaction's events join at its commit.
  const committed: EventRecord[] = [];
  const streams = new Map<string, EventRecord[]>();
  const listeners = new Set<CommittedListener>();
  // For the idempotency check of appends that do not say at which revision they go.
  const byEventId = new Map<string, EventRecord>();
  // Start of the last committed record (event or commit record): the server's LastIndexedPosition.
  let lastIndexedPosition = -1;

  const writeRecord = (length: number): number => {
    const position = end;
    recordStarts.add(position);
    end += length;
    return position;
  };

  const streamRevision = (streamId: string): number | undefined => {
    const events = streams.get(streamId);
    return events?.length ? events.length - 1 : undefined;
  };

  const writePrepare = (
    streamId: string,
    revision: number,
    event: ProposedEvent,
    selfCommitted: boolean,
  ): Omit<EventRecord, 'commit' | 'commitEnd'> => {
    const length = prepareLength(streamId, event);
    const position = writeRecord(length);
    return {
      ...event,
      position,
      end: position + length,
      selfCommitted,
      streamId,
      revision,
      created: ticks(now()),
    };
  };

  const publish = (events: EventRecord[]) => {
    for (const event of events) {
      committed.push(event);
      byEventId.set(event.eventId, event);
      lastIndexedPosition = event.commit;
      const stream = streams.get(event.streamId) ?? [];
      stream.push(event);
      streams.set(event.streamId, stream);
    }
    // Listeners hear of an append once it is complete: it is atomic for them as for readers.
    for (const event of events) for (const listener of listeners) listener(event);
  };

  const writeEvents = (streamId: string, events: ProposedEvent[]): EventRecord[] => {
    const first = (streamRevision(streamId) ?? -1) + 1;
    return events.map((event, i) => {
      const prepare = writePrepare(streamId, first + i, event, true);
      return { ...prepare, commit: prepare.position, commitEnd: prepare.end };
    });
  };

  /**
   * The server's idempotency and expected-revision checks (IndexWriter.CheckCommit): a retry of
   * events already written answers with where they were written; a partial overlap is a wrong
   * expected revision.
   */
  const check = (
    streamId: string,
    expected: ExpectedRevision,
    eventIds: string[],
  ): { decision: 'ok' | 'wrong' } | { decision: 'idempotent'; last: EventRecord } => {
    const stream = streams.get(streamId) ?? [];
    const current = stream.length - 1;
    if (expected === 'stream_exists' && current < 0) return { decision: 'wrong' };
    if (expected === 'any' || expected === 'stream_exists') {
      const written = eventIds.map((id) => {
        const event = byEventId.get(id);
        return event?.streamId === streamId ? event : undefined;
      });
      if (!written[0]) return { decision: 'ok' };
      if (written.some((event) => !event)) return { decision: 'wrong' };
      return { decision: 'idempotent', last: written.at(-1)! };
    }
    const expectedNumber = expected === 'no_stream' ? -1 : Number(expected);
    if (expectedNumber === current) return { decision: 'ok' };
    if (expectedNumber > current || eventIds.length === 0) return { decision: 'wrong' };
    const same = eventIds.map((id, i) => stream[expectedNumber + 1 + i]?.eventId === id);
    if (same.every(Boolean))
      return { decision: 'idempotent', last: stream[expectedNumber + eventIds.length]! };
    return { decision: 'wrong' };
  };

  return {
    /** The end of the log: where the next record will start (the server's writer checkpoint). */
    get end() {
      return end;
    },

    get lastIndexedPosition() {
      return lastIndexedPosition;
    },

    isRecordStart: (position: number) => recordStarts.has(position),

    /** A read or subscription of `$all` can start at a record or at the end of the log, nowhere else. */
    isValidStart: (position: number) => position === end || recordStarts.has(position),

    stream: (streamId: string): readonly EventRecord[] | undefined => streams.get(streamId),

    /**
     * Events of the stream `created` before this are past its `$maxAge`: stream reads leave them
     * out (IndexReader); undefined when it has none. The metadata is the last event of `$$<stream>`,
     * read as the server reads it (StreamMetadata.TryFromJsonBytes): JSON with `$maxAge` a positive
     * integer of seconds; anything else is no metadata.
     */
    maxAgeCutoff(streamId: string): bigint | undefined {
      const meta = streams.get(`$$${streamId}`)?.at(-1);
      if (!meta?.isJson) return undefined;
      let maxAge: unknown;
      try {
        maxAge = (JSON.parse(Buffer.from(meta.data).toString('utf8')) as { $maxAge?: unknown })?.$maxAge;
      } catch {
        return undefined;
      }
      if (!Number.isSafeInteger(maxAge) || (maxAge as number) <= 0) return undefined;
      return ticks(now() - (maxAge as number) * 1000);
    },

    advanceClock(ms: number) {
      clockOffsetMs += ms;
    },

    /** Every event appended from now on, once its append is complete. */
    onCommitted(listener: CommittedListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** Appends as one implicit transaction: every event its own committed record, all or none. */
    append(streamId: string, expected: ExpectedRevision, events: ProposedEvent[]): AppendOutcome {
      const checked = check(
        streamId,
        expected,
        events.map((event) => event.eventId),
      );
      if (checked.decision === 'wrong') return { ok: false, currentRevision: streamRevision(streamId) };
      if (checked.decision === 'idempotent') {
        return { ok: true, currentRevision: checked.last.revision, position: checked.last.position };
      }
      if (events.length === 0)
        return { ok: true, currentRevision: streamRevision(streamId), position: undefined };
      const written = writeEvents(streamId, events);
      publish(written);
      const last = written.at(-1)!;
      return { ok: true, currentRevision: last.revision, position: last.position };
    },

    /**
     * As the TCP API's explicit transactions wrote them: the prepares first (not committed by
     * themselves), then a commit record. Every event gets that commit record's position as its
     * commit position and keeps its own as prepare position.
     */
    appendLegacyTransaction(streamId: string, events: ProposedEvent[]): EventRecord[] {
      const first = (streamRevision(streamId) ?? -1) + 1;
      const prepares = events.map((event, i) => writePrepare(streamId, first + i, event, false));
      const commit = writeRecord(COMMIT_LENGTH);
      const written = prepares.map((prepare) => ({ ...prepare, commit, commitEnd: commit + COMMIT_LENGTH }));
      publish(written);
      return written;
    },

    /**
     * Changes a written event's data in place, as a damaged disk or a hand would: same record, same
     * position, other bytes. For the fault hook that tests checksums.
     */
    rewriteData(streamId: string, revision: number, data: Uint8Array) {
      const event = streams.get(streamId)?.[revision];
      if (!event) throw new Error(`no event at revision ${revision} of ${streamId}`);
      (event as { data: Uint8Array }).data = data;
    },

    /** A record that is not an event (an epoch record, say): it takes room, no read returns it. */
    appendSystemRecord(dataLength: number) {
      writeRecord(FRAME + HEADER + SYSTEM_FIXED + dataLength);
    },

    /**
     * Forward read from `from` as the server's AllReader does it: events whose (commit, prepare) is at
     * or after `from`, at most `maxCount` matching and `window` looked at.
     */
    readForward(
      from: LogPosition,
      maxCount: number,
      window: number,
      allowed: (event: EventRecord) => boolean,
    ): ForwardPage {
      const events: EventRecord[] = [];
      let nextPos = from;
      let considered = 0;
      let isEndOfStream = false;
      let i = firstAtOrAfter(committed, from);
      while (events.length < maxCount && considered < window) {
        const event = committed[i++];
        if (!event) {
          isEndOfStream = true;
          break;
        }
        considered += 1;
        if (allowed(event)) events.push(event);
        nextPos = event.selfCommitted
          ? { commit: event.end, prepare: 0 }
          : { commit: event.commit, prepare: event.end };
      }
      return { events, currentPos: from, nextPos, isEndOfStream, considered };
    },

    /**
     * Backward read from `from`: events whose record (or commit record) ends at or before it, the
     * server's test being (commit end, prepare end) <= from, newest first.
     */
    *readBackward(from: LogPosition, allowed: (event: EventRecord) => boolean): Generator<EventRecord> {
      let i = lastEndingAtOrBefore(committed, from);
      for (; i >= 0; i--) {
        const event = committed[i]!;
        if (allowed(event)) yield event;
      }
    },

    /** Events in `$all` order from index `i`; the array grows as appends happen. */
    committedAt: (i: number): EventRecord | undefined => committed[i],

    firstAtOrAfter: (from: LogPosition) => firstAtOrAfter(committed, from),
  };
};

/** Writes the records a fresh node starts its log with, so the first user event is not at 0. */
export const writeNodeStartRecords = (log: TransactionLog) => {
  const epochId = randomUUID();
  log.appendSystemRecord(152);
  log.append('$epoch-information', 'any', [
    {
      eventId: randomUUID(),
      type: '$epoch-information',
      isJson: true,
      data: json({ epochId, epochNumber: 0, epochPosition: 0, leaderInstanceId: randomUUID() }),
      metadata: new Uint8Array(),
    },
  ]);
  log.append('$settings', 'any', [
    {
      eventId: randomUUID(),
      type: '$settings',
      isJson: true,
      data: json({ $userStreamAcl: { $r: '$all', $w: '$all' }, $systemStreamAcl: { $r: '$admins' } }),
      metadata: new Uint8Array(),
    },
  ]);
};

/** A `$`-typed event in a `$`-stream, as a node writes now and then (here: statistics). */
export const statsEvent = (): ProposedEvent => ({
  eventId: randomUUID(),
  type: '$statsCollected',
  isJson: true,
  data: json({ 'proc-cpu': Math.random(), 'proc-mem': 123_456_789, 'es-queue-Main-queueName': 'Main' }),
  metadata: new Uint8Array(),
});

const firstAtOrAfter = (events: readonly EventRecord[], from: LogPosition): number => {
  let [low, high] = [0, events.length];
  while (low < high) {
    const mid = (low + high) >> 1;
    const event = events[mid]!;
    if (comparePositions({ commit: event.commit, prepare: event.position }, from) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
};

const lastEndingAtOrBefore = (events: readonly EventRecord[], from: LogPosition): number => {
  let [low, high] = [0, events.length];
  while (low < high) {
    const mid = (low + high) >> 1;
    const event = events[mid]!;
    if (comparePositions({ commit: event.commitEnd, prepare: event.end }, from) <= 0) low = mid + 1;
    else high = mid;
  }
  return low - 1;
};
