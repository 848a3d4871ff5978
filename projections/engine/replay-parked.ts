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
  /** Entries that failed again: kept, with the new error and one more attempt counted. */
  failed: { id: string; error: string }[];
};

/**
 * Runs the (fixed) handler again on a projection's parked events, oldest first, and writes what
 * it returns. The writes are guarded like any other, so a document that a later event of the same
 * stream already moved past stays as it is: the later event carried the state. A live projector
 * may run meanwhile. The after-flush hook runs too, so caches see the replayed documents.
 */
export const replayParked = async ({
  projection,
  readStore,
  logger,
  now = () => new Date(),
}: {
  projection: Projection;
  readStore: ReadStore;
  logger: Logger;
  now?: () => Date;
}): Promise<ReplayResult> => {
  const parked = parkedEvents(readStore);
  const result: ReplayResult = { replayed: [], failed: [] };
  for (const doc of await parked.list(projection.name)) {
    try {
      const ops = checkOps(projection, projection.handle(parkedEventToRecorded(doc)));
      await writeGrouped(readStore, groupOps([ops]));
      await parked.remove([doc._id]);
      result.replayed.push(doc._id);
      await refreshViews(projection, readStore, touchedIds([ops]), logger);
    } catch (error) {
      const { message } = describeError(error);
      result.failed.push({ id: doc._id, error: message });
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
    }
  }
  return result;
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
