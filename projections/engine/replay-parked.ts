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
   * moved the document past them. Whatever the later events did not carry of this one (the owner an
   * AccountOpened sets, say) is missing from the model: rebuild the projection to get it back.
   */
  superseded: string[];
  /** Entries that failed again: kept, with the new error and one more attempt counted. */
  failed: { id: string; error: string }[];
};

/**
 * Runs the (fixed) handler again on a projection's parked events, oldest first, and writes what
 * it returns. The writes are guarded like any other, so a document that a later event of the same
 * stream already moved past stays as it is; such replays are reported as `superseded`, since only
 * a rebuild brings back what the later events did not carry. A live projector may run meanwhile.
 * The after-flush hook runs too, so caches see the replayed documents.
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
  const result: ReplayResult = { replayed: [], superseded: [], failed: [] };
  for (const doc of await parked.list(projection.name)) {
    try {
      const ops = checkOps(projection, projection.handle(parkedEventToRecorded(doc)));
      const { applied, duplicates } = await writeGrouped(readStore, groupOps([ops]));
      await parked.remove([doc._id]);
      result.replayed.push(doc._id);
      if (applied === 0 && duplicates > 0) result.superseded.push(doc._id);
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
