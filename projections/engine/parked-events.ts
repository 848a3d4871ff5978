import {
  type Position,
  positionFromJson,
  positionToJson,
  type RecordedEvent,
} from '../../infra/event-store/event-store.js';
import type { Document, ReadStore, WriteOp } from '../../infra/read-store/read-store.js';

export const PARKED_EVENTS = 'parked_events';

/** An event a projection could not apply, kept with why, so it can be fixed and replayed. */
export type ParkedEventDocument = Document & {
  projection: string;
  event: Omit<RecordedEvent, 'position'> & { position: string };
  error: { name: string; message: string; stack?: string };
  /** Attempts so far: the projector's, plus one per failed replay. */
  attempts: number;
  parkedAt: string;
  /** The projector instance (or rebuild) that parked it. */
  parkedBy: string;
  /**
   * Set when the event parked only because an earlier event of its stream is parked (this is that
   * one's `_id`): its handler did not run, so that the model never shows the stream with a hole.
   */
  behind?: string;
  /**
   * Set when the event parked because the event log holds it damaged (its checksum did not match):
   * `event` then has no content (data null), and a replay reads the event from the log again.
   */
  damaged?: true;
};

export const parkedEventId = (projection: string, position: Position): string =>
  `${projection}:${positionToJson(position)}`;

export const describeError = (error: unknown): ParkedEventDocument['error'] =>
  error instanceof Error
    ? { name: error.name, message: error.message, ...(error.stack !== undefined && { stack: error.stack }) }
    : { name: 'Error', message: String(error) };

export const parkedEventDocument = (park: {
  projection: string;
  event: RecordedEvent;
  error: unknown;
  attempts: number;
  parkedBy: string;
  now: Date;
}): ParkedEventDocument => ({
  _id: parkedEventId(park.projection, park.event.position),
  projection: park.projection,
  event: { ...park.event, position: positionToJson(park.event.position) },
  error: describeError(park.error),
  attempts: park.attempts,
  parkedAt: park.now.toISOString(),
  parkedBy: park.parkedBy,
});

/** The entry of an event held back behind `behind`, an earlier parked event of its stream. */
export const parkedBehindDocument = (park: {
  projection: string;
  event: RecordedEvent;
  behind: string;
  parkedBy: string;
  now: Date;
}): ParkedEventDocument => ({
  _id: parkedEventId(park.projection, park.event.position),
  projection: park.projection,
  event: { ...park.event, position: positionToJson(park.event.position) },
  error: { name: 'StreamParked', message: `an earlier event of this stream is parked: ${park.behind}` },
  attempts: 0,
  parkedAt: park.now.toISOString(),
  parkedBy: park.parkedBy,
  behind: park.behind,
});

/** Parking the same event twice keeps one entry, the latest. */
export const parkOp = (doc: ParkedEventDocument): WriteOp => ({
  replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true },
});

export const parkedEventToRecorded = (doc: ParkedEventDocument): RecordedEvent => {
  const position = positionFromJson(doc.event.position);
  if (position === undefined) throw new Error(`parked event ${doc._id} has no valid position`);
  return { ...doc.event, position };
};

export const parkedEvents = (readStore: ReadStore) => {
  const docs = readStore.collection<ParkedEventDocument>(PARKED_EVENTS);
  /** In position order within each projection ($all order, as they were projected). */
  const list = async (projection?: string): Promise<ParkedEventDocument[]> => {
    const found = await docs.find(projection === undefined ? {} : { projection });
    return found.sort((a, b) => compareText(a.projection, b.projection) || comparePositions(a, b));
  };
  return {
    list,

    count: (projection: string) => docs.countDocuments({ projection }),

    /** The streams (all, or of `streamIds`) with a parked event, each with the `_id` of its first. */
    async blockedStreams(projection: string, streamIds?: readonly string[]): Promise<Map<string, string>> {
      const found = await docs.find({
        projection,
        ...(streamIds !== undefined && { 'event.streamId': { $in: streamIds } }),
      });
      const blocked = new Map<string, string>();
      for (const doc of found.sort(comparePositions))
        if (!blocked.has(doc.event.streamId)) blocked.set(doc.event.streamId, doc._id);
      return blocked;
    },

    async remove(ids: readonly string[]): Promise<void> {
      if (ids.length > 0) await docs.bulkWrite(ids.map((_id) => ({ deleteOne: { filter: { _id } } })));
    },

    async write(ops: readonly WriteOp[]): Promise<void> {
      if (ops.length > 0) await docs.bulkWrite(ops);
    },
  };
};

export type ParkedEvents = ReturnType<typeof parkedEvents>;

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const comparePositions = (a: ParkedEventDocument, b: ParkedEventDocument) => {
  const x = BigInt(a.event.position);
  const y = BigInt(b.event.position);
  return x < y ? -1 : x > y ? 1 : 0;
};
