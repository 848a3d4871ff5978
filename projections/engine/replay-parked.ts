import { type EventStore, positionToJson, type RecordedEvent } from '../../infra/event-store/event-store.js';
import type { ReadStore } from '../../infra/read-store/read-store.js';
import type { Logger } from './logger.js';
import {
  describeError,
  type ParkedEventDocument,
  parkedEvents,
  parkedEventToRecorded,
} from './parked-events.js';
import type { Projection } from './projection.js';
import { checkOps, groupOps, touchedIds, writeGrouped } from './write-ops.js';

export type ReplayResult = {
  /** Parked entries whose events now projected; their entries are gone. */
  replayed: string[];
  /**
   * Of `replayed`, those whose writes changed nothing: a later event of the same stream had already
   * moved the document past them (entries parked before parking was per stream, say). Whatever the
   * later events did not carry of this one is missing from the model: rebuild the projection.
   */
  superseded: string[];
  /** Entries that failed again: kept, with the new error and one more attempt counted. */
  failed: { id: string; error: string }[];
  /** Entries not tried: an earlier event of their stream failed again, so they stay parked behind it. */
  waiting: string[];
};

/**
 * Runs the (fixed) handler again on a projection's parked events and writes what it returns:
 * stream by stream, in stream order, stopping a stream at its first event that fails again (it
 * and the later ones stay parked, so the stream never shows a hole). The writes are guarded like
 * any other. A live projector may run meanwhile: it keeps parking the stream's new events until
 * it reloads its blocked streams, so entries parked during the replay are replayed too.
 * The after-flush hook runs too, so caches see the replayed documents.
 */
export const replayParked = async ({
  projection,
  readStore,
  eventStore,
  logger,
  now = () => new Date(),
}: {
  projection: Projection;
  readStore: ReadStore;
  /**
   * Where an event parked because it was damaged in the log is read again (its parked copy has no
   * content): once it has been restored, it replays; while it is still damaged, it stays parked.
   * Without it, such entries stay parked.
   */
  eventStore?: EventStore;
  logger: Logger;
  now?: () => Date;
}): Promise<ReplayResult> => {
  const parked = parkedEvents(readStore);
  const result: ReplayResult = { replayed: [], superseded: [], failed: [], waiting: [] };
  const tried = new Set<string>();
  const stuck = new Set<string>();

  /** The event to run the handler on: the parked copy, or for a damaged one, the log's, read again. */
  const eventOf = async (doc: ParkedEventDocument): Promise<RecordedEvent> => {
    if (!doc.damaged) return parkedEventToRecorded(doc);
    if (!eventStore)
      throw new Error(
        'this event was damaged in the event log: restore it there, then replay with the event store',
      );
    const [event] = await eventStore.readStream(doc.event.streamId, { fromRevision: doc.event.revision });
    if (
      !event ||
      event.revision !== doc.event.revision ||
      positionToJson(event.position) !== doc.event.position
    )
      throw new Error(`the event log no longer has this event at position ${doc.event.position}`);
    return event;
  };

  const replayOne = async (doc: ParkedEventDocument): Promise<boolean> => {
    try {
      const ops = checkOps(projection, projection.handle(await eventOf(doc)));
      const { applied, duplicates } = await writeGrouped(readStore, groupOps([ops]));
      await parked.remove([doc._id]);
      result.replayed.push(doc._id);
      if (applied === 0 && duplicates > 0) result.superseded.push(doc._id);
      await refreshViews(projection, readStore, touchedIds([ops]), logger);
      return true;
    } catch (error) {
      result.failed.push({ id: doc._id, error: describeError(error).message });
      await parked.write([
        {
          updateOne: {
            filter: { _id: doc._id },
            update: {
              $set: { error: describeError(error), lastReplayAt: now().toISOString() } satisfies Partial<
                ParkedEventDocument & { lastReplayAt: string }
              >,
              $inc: { attempts: 1 },
            },
          },
        },
      ]);
      return false;
    }
  };

  // Again until a pass finds nothing new: the live projector may park more of a stream meanwhile.
  for (;;) {
    const fresh = (await parked.list(projection.name)).filter((doc) => !tried.has(doc._id));
    if (fresh.length === 0) break;
    for (const [streamId, docs] of byStream(fresh)) {
      for (const doc of docs) {
        tried.add(doc._id);
        if (stuck.has(streamId)) result.waiting.push(doc._id);
        else if (!(await replayOne(doc))) stuck.add(streamId);
      }
    }
  }
  return result;
};

/** Each stream's entries in stream order, the streams in the order of their first parked event. */
const byStream = (docs: readonly ParkedEventDocument[]): Map<string, ParkedEventDocument[]> => {
  const streams = new Map<string, ParkedEventDocument[]>();
  for (const doc of docs) {
    const list = streams.get(doc.event.streamId);
    if (list) list.push(doc);
    else streams.set(doc.event.streamId, [doc]);
  }
  for (const list of streams.values()) list.sort((a, b) => a.event.revision - b.event.revision);
  return streams;
};

const refreshViews = async (
  projection: Projection,
  readStore: ReadStore,
  touched: Map<string, Set<string>>,
  logger: Logger,
) => {
  if (!projection.afterFlush || touched.size === 0) return;
  try {
    await projection.afterFlush({
      projection: projection.name,
      touched,
      collection: (name) => readStore.collection(name),
      signal: new AbortController().signal,
    });
  } catch (error) {
    logger.warn({ err: error, projection: projection.name }, 'after-flush hook failed after a replay');
  }
};
