import type { RecordedEvent } from '../../infra/event-store/event-store.js';
import type { ReadStore } from '../../infra/read-store/read-store.js';
import { type RetryPolicy, withRetries } from './backoff.js';
import type { Logger } from './logger.js';
import { PARKED_EVENTS, type ParkedEventDocument, parkedEventDocument, parkOp } from './parked-events.js';
import type { Projection, ProjectionOps } from './projection.js';
import type { ProjectorCounters } from './projector-counters.js';
import { groupOps, touchedIds, writeGrouped } from './write-ops.js';

/** One handled event in a batch: its writes, or, if its handler kept failing, its parking entry. */
export type BatchEntry = { event: RecordedEvent; ops: ProjectionOps; parked?: ParkedEventDocument };

export type BatchWriterOptions = {
  projection: Projection;
  readStore: ReadStore;
  logger: Logger;
  policy: RetryPolicy;
  counters: ProjectorCounters;
  /** Recorded on the events this writer parks. */
  instance: string;
  /** Where a projection's collection is written: itself, or its `__rebuild` twin. */
  collectionName: (name: string) => string;
  now: () => Date;
};

/**
 * Writes a batch: one bulkWrite per collection, retried with backoff. When the batch still fails
 * and the store answers, some event's writes are at fault: the events are written one by one and
 * the one that fails is parked, so the events after it still project. When the store does not
 * answer, nothing is parked: the error goes up and the projector starts again from its checkpoint.
 * Returns the `_id`s written, by collection.
 */
export const createBatchWriter = ({
  projection,
  readStore,
  logger,
  policy,
  counters,
  instance,
  collectionName,
  now,
}: BatchWriterOptions) => {
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

  return async (entries: readonly BatchEntry[]): Promise<Map<string, Set<string>>> => {
    let written: BatchEntry[] = [...entries];
    try {
      await write(entries);
    } catch (error) {
      await readStore.ping(); // throws during an outage, which is no event's fault
      logger.warn(
        { err: error, events: entries.length },
        'batch keeps failing; writing its events one by one',
      );
      written = [];
      for (const entry of entries) {
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
          logger.error(
            { err: entryError, position: String(event.position), streamId: event.streamId, type: event.type },
            'event parked: its writes keep failing',
          );
        }
      }
    }
    counters.parked += written.filter((entry) => entry.parked).length;
    return touchedIds(written.filter((entry) => !entry.parked).map((entry) => entry.ops));
  };
};

export type BatchWriter = ReturnType<typeof createBatchWriter>;
