import { AppendSignal, pagedSubscription } from './append-signal.js';
import {
  type AppendResult,
  checkExpectedRevision,
  type EventData,
  type EventStore,
  type ExpectedRevision,
  matchesFilter,
  type ReadAllOptions,
  type RecordedEvent,
  type SubscribeOptions,
} from './event-store.js';

const PAGE = 500;

/** The event store in an array: for unit tests and as the reference the contract suite pins down. */
export const createMemoryEventStore = (): EventStore => {
  const log: RecordedEvent[] = [];
  const streams = new Map<string, RecordedEvent[]>();
  const appended = new AppendSignal();

  const readAll = ({ after, maxCount = Number.MAX_SAFE_INTEGER, filter }: ReadAllOptions = {}) => {
    // Positions here are index + 1, so the first candidate is at index `after`.
    const out: RecordedEvent[] = [];
    for (let i = after === undefined ? 0 : Number(after); i < log.length && out.length < maxCount; i++) {
      const event = log[i] as RecordedEvent;
      if (matchesFilter(event, filter)) out.push(structuredClone(event));
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
      return (streams.get(streamId) ?? []).slice(fromRevision).map((e) => structuredClone(e));
    },

    async readAll(options) {
      return readAll(options);
    },

    subscribeToAll({ after, filter, signal, onCheckpoint }: SubscribeOptions = {}) {
      return pagedSubscription(
        (from) => {
          const events = readAll({ after: from, filter, maxCount: PAGE });
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

    async close() {},
  };
};
