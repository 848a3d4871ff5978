import type { RecordedEvent } from '../../infra/event-store/event-store.js';
import type { ReadStore } from '../../infra/read-store/read-store.js';
import { type RetryPolicy, withRetries } from './backoff.js';
import type { BlockedStreams } from './blocked-streams.js';
import type { Logger } from './logger.js';
import {
  PARKED_EVENTS,
  type ParkedEventDocument,
  parkedBehindDocument,
  parkedEventDocument,
  parkOp,
} from './parked-events.js';
import type { Projection, ProjectionOps } from './projection.js';
import type { ProjectorCounters } from './projector-counters.js';
import { groupOps, touchedIds, writeGrouped } from './write-ops.js';

/**
 * One event in a batch: its writes, or its parking entry (its handler kept failing, or an earlier
 * event of its stream is parked), or `held`: its stream was blocked when it came in, and its handler
 * has not run.
 */
export type BatchEntry = {
  event: RecordedEvent;
  ops: ProjectionOps;
  parked?: ParkedEventDocument;
  held?: boolean;
};

export type BatchWriterOptions = {
  projection: Projection;
  readStore: ReadStore;
  logger: Logger;
  policy: RetryPolicy;
  counters: ProjectorCounters;
  /** Recorded on the events this writer parks. */
  instance: string;
  /** The streams whose events park behind an earlier parked one; this writer adds what it parks. */
  blocked: BlockedStreams;
  /** Runs the handler of a held event whose stream turned out to be unblocked (with retries). */
  handle: (event: RecordedEvent) => BatchEntry | Promise<BatchEntry>;
  /** Where a projection's collection is written: itself, or its `__rebuild` twin. */
  collectionName: (name: string) => string;
  now: () => Date;
};

/**
 * Writes a batch: one bulkWrite per collection, retried with backoff. When the batch still fails
 * and the store answers, some event's writes are at fault: the events are written one by one and
 * the one that fails is parked, so the events after it still project (except those of its stream,
 * which park behind it). When the store does not answer, nothing is parked: the error goes up and
 * the projector starts again from its checkpoint. Returns the `_id`s written, by collection.
 */
export const createBatchWriter = ({
  projection,
  readStore,
  logger,
  policy,
  counters,
  instance,
  blocked,
  handle,
  collectionName,
  now,
}: BatchWriterOptions) => {
  const parkBehind = (event: RecordedEvent, behind: string): BatchEntry => ({
    event,
    ops: {},
    parked: parkedBehindDocument({
      projection: projection.name,
      event,
      behind,
      parkedBy: instance,
      now: now(),
    }),
  });

  // Decided here, in stream order, and not when the event came in: parking is per stream, and an
  // event parked earlier in the batch, or a replay meanwhile, changes what the events after it do.
  // Synchronous unless a held event's handler is retried, so that settling a batch costs no await per event.
  const settle = (entry: BatchEntry): BatchEntry | Promise<BatchEntry> => {
    const { event } = entry;
    const behind = entry.parked ? undefined : blocked.parkedAt(event.streamId);
    const settled = behind !== undefined ? parkBehind(event, behind) : entry.held ? handle(event) : entry;
    return settled instanceof Promise ? settled.then(blockIfParked) : blockIfParked(settled);
  };
  const blockIfParked = (settled: BatchEntry): BatchEntry => {
    if (settled.parked) blocked.block(settled.event.streamId, settled.parked.behind ?? settled.parked._id);
    return settled;
  };

  const writeOnce = (entries: readonly BatchEntry[]) => {
    const grouped = groupOps(
      entries.map((entry) => entry.ops),
      collectionName,
    );
    const parked = entries.flatMap((entry) => (entry.parked ? [parkOp(entry.parked)] : []));
    if (parked.length > 0) grouped.set(PARKED_EVENTS, [...(grouped.get(PARKED_EVENTS) ?? []), ...parked]);
    return writeGrouped(readStore, grouped);
  };

  const write = async (entries: readonly BatchEntry[]) => {
    const result = await withRetries(
      policy,
      () => writeOnce(entries),
      (error, attempt) => {
        counters.retries++;
        logger.warn({ err: error, attempt, events: entries.length }, 'batch write failed; retrying');
      },
    );
    counters.duplicatesSkipped += result.duplicates;
  };

  return async (batch: readonly BatchEntry[]): Promise<Map<string, Set<string>>> => {
    // What this process knows of a blocked stream may be stale: a replay may have unblocked it.
    const suspects = new Set(
      batch.flatMap(({ event }) => (blocked.parkedAt(event.streamId) ? [event.streamId] : [])),
    );
    if (suspects.size > 0) await blocked.reload([...suspects]);
    const entries: BatchEntry[] = [];
    for (const entry of batch) {
      const settled = settle(entry);
      entries.push(settled instanceof Promise ? await settled : settled);
    }
    let written: BatchEntry[] = entries;
    try {
      await write(entries);
    } catch (error) {
      await readStore.ping(); // throws during an outage, which is no event's fault
      logger.warn(
        { err: error, events: entries.length },
        'batch keeps failing; writing its events one by one',
      );
      written = [];
      // An event parked here blocks the later events of its stream in this batch too.
      const failed = new Map<string, string>();
      for (const held of entries) {
        const behind = held.parked ? undefined : failed.get(held.event.streamId);
        const entry = behind === undefined ? held : parkBehind(held.event, behind);
        try {
          await write([entry]);
          written.push(entry);
        } catch (entryError) {
          await readStore.ping();
          const { event } = entry;
          const parked = parkedEventDocument({
            projection: projection.name,
            event,
            error: entryError,
            attempts: policy.maxAttempts,
            parkedBy: instance,
            now: now(),
          });
          await write([{ event, ops: {}, parked }]);
          written.push({ event, ops: {}, parked });
          if (!failed.has(event.streamId)) failed.set(event.streamId, parked._id);
          blocked.block(event.streamId, parked._id);
          logger.error(
            { err: entryError, position: String(event.position), streamId: event.streamId, type: event.type },
            'event parked: its writes keep failing; later events of its stream park behind it',
          );
        }
      }
    }
    counters.parked += written.filter((entry) => entry.parked).length;
    return touchedIds(written.filter((entry) => !entry.parked).map((entry) => entry.ops));
  };
};

export type BatchWriter = ReturnType<typeof createBatchWriter>;
