import { AppendSignal, pagedSubscription } from './append-signal.js';
import {
  type AppendResult,
  CorruptEventError,
  checkExpectedRevision,
  damagedEventLog,
  type EventData,
  type EventStore,
  type ExpectedRevision,
  matchesFilter,
  occurredBefore,
  type ReadAllOptions,
  type RecordedEvent,
  type SubscribeOptions,
} from './event-store.js';

const PAGE = 500;

export type MemoryEventStore = EventStore & {
  /**
   * Test hook: from now on the event at `revision` of `streamId` reads as damaged (as a stored event
   * whose checksum no longer matches does in the other stores): every read that meets it throws
   * CorruptEventError.
   */
  damage(streamId: string, revision: number): void;
};

/** The event store in an array: for unit tests and as the reference the contract suite pins down. */
export const createMemoryEventStore = (): MemoryEventStore => {
  // Index + 1 is the position; an expired event leaves a hole, so no position moves or comes back.
  const log: Array<RecordedEvent | undefined> = [];
  const streams = new Map<string, RecordedEvent[]>();
  const appended = new AppendSignal();
  const damagedPositions = new Set<bigint>();
  const damaged = damagedEventLog();

  /** A copy of the event, or CorruptEventError if it was damaged (the test hook). */
  const copy = (event: RecordedEvent): RecordedEvent => {
    if (damagedPositions.has(event.position))
      throw damaged.record(
        new CorruptEventError(
          event.streamId,
          event.revision,
          event.position,
          'its checksum does not match its content',
          event.type,
        ),
      );
    return structuredClone(event);
  };

  const readAll = ({ after, maxCount = Number.MAX_SAFE_INTEGER, filter }: ReadAllOptions = {}) => {
    // Positions here are index + 1, so the first candidate is at index `after`.
    const out: RecordedEvent[] = [];
    for (let i = after === undefined ? 0 : Number(after); i < log.length && out.length < maxCount; i++) {
      const event = log[i];
      if (event && matchesFilter(event, filter)) out.push(copy(event));
    }
    return out;
  };

  return {
    async append(
      streamId: string,
      events: readonly EventData[],
      { expectedRevision }: { expectedRevision: ExpectedRevision },
    ): Promise<AppendResult> {
      const stream = streams.get(streamId) ?? [];
      checkExpectedRevision(streamId, expectedRevision, stream.length === 0 ? undefined : stream.length - 1);
      if (events.length === 0) throw new Error('append needs at least one event');
      // Every event is copied before any is stored: one that cannot be copied fails the append whole.
      const recorded = events.map(
        (event, i): RecordedEvent => ({
          ...structuredClone(event),
          streamId,
          revision: stream.length + i,
          position: BigInt(log.length + 1 + i),
        }),
      );
      for (const event of recorded) {
        stream.push(event);
        log.push(event);
      }
      streams.set(streamId, stream);
      appended.notify();
      const last = stream[stream.length - 1] as RecordedEvent;
      return { nextRevision: last.revision, position: last.position };
    },

    async readStream(streamId, { fromRevision = 0 } = {}) {
      return (streams.get(streamId) ?? []).slice(fromRevision).map(copy);
    },

    async readAll(options) {
      return readAll(options);
    },

    subscribeToAll({ after, filter, signal, onCheckpoint }: SubscribeOptions = {}) {
      return pagedSubscription(
        (from) => {
          const events: RecordedEvent[] = [];
          for (let i = from === undefined ? 0 : Number(from); i < log.length && events.length < PAGE; i++) {
            const event = log[i];
            if (!event || !matchesFilter(event, filter)) continue;
            try {
              events.push(copy(event));
            } catch (error) {
              return { events, error };
            }
          }
          // Fewer than a page means the scan reached the end of the log as it is now.
          return events.length < PAGE && log.length > 0
            ? { events, scannedTo: BigInt(log.length) }
            : { events };
        },
        appended,
        { after, signal, onCheckpoint },
      );
    },

    async headPosition() {
      return log.length === 0 ? undefined : BigInt(log.length);
    },

    damagedEvents: damaged.list,

    async expireStreams(prefix, olderThan) {
      if (prefix === '') throw new Error('expireStreams needs a stream prefix');
      const head = log.at(-1);
      let expired = 0;
      for (const [streamId, stream] of streams) {
        if (!streamId.startsWith(prefix) || stream.includes(head as RecordedEvent)) continue;
        if (stream.some((event) => damagedPositions.has(event.position) || !occurredBefore(event, olderThan)))
          continue;
        for (const event of stream) log[Number(event.position) - 1] = undefined;
        streams.delete(streamId);
        expired += 1;
      }
      return expired;
    },

    damage(streamId, revision) {
      const event = streams.get(streamId)?.[revision];
      if (!event) throw new Error(`no event at revision ${revision} of ${streamId}`);
      damagedPositions.add(event.position);
    },

    async close() {},
  };
};
