import { type Position, positionFromJson, positionToJson } from '../../infra/event-store/event-store.js';
import type { Document, ReadStore } from '../../infra/read-store/read-store.js';

export const CHECKPOINTS = 'checkpoints';

export type CheckpointDocument = Document & {
  /** The position in `$all` the projection has processed up to, as a decimal string. */
  position: string;
  updatedAt: string;
  /** Epoch of the lease under which it was written: a writer with an older lease is fenced off. */
  epoch: number;
};

/** Where each projection's checkpoint lives: collection `checkpoints`, `_id` = projection name. */
export const checkpointStore = (readStore: ReadStore) => {
  const docs = readStore.collection<CheckpointDocument>(CHECKPOINTS);
  return {
    async read(projection: string): Promise<Position | undefined> {
      const doc = await docs.findOne({ _id: projection });
      if (doc === null) return undefined;
      const position = positionFromJson(String(doc.position));
      if (position === undefined)
        throw new Error(`checkpoint of ${projection} is not a position: ${doc.position}`);
      return position;
    },

    /**
     * Writes the checkpoint unless a holder of a later lease epoch has written it. Returns false
     * when fenced off: this writer has lost its lease and must stop.
     */
    async write(projection: string, position: Position, epoch: number, now: Date): Promise<boolean> {
      const { applied } = await docs.bulkWrite([
        {
          updateOne: {
            filter: { _id: projection, epoch: { $lte: epoch } },
            update: { $set: { position: positionToJson(position), epoch, updatedAt: now.toISOString() } },
            upsert: true,
          },
        },
      ]);
      return applied === 1;
    },
  };
};

export type CheckpointStore = ReturnType<typeof checkpointStore>;
