import { randomUUID } from 'node:crypto';
import {
  type EventStore,
  type Position,
  positionFromJson,
  positionToJson,
  WrongExpectedRevisionError,
} from '../../infra/event-store/event-store.js';
import { SCHEMA_VERSION } from '../pipeline/handle-command.js';

/**
 * A consumer's checkpoint kept in the event store, so it survives a restart wherever the events
 * do (the embedded read store lives in memory; the event store is a file or a server).
 *
 * Each save appends one small event. Saves fill streams `checkpoint-<name>-<generation>` of
 * `perStream` events each, so loading never reads every save ever made: a galloping search over
 * generations finds the last one in O(log generations) one-event probes, then reads that stream.
 *
 * The append expects the revision this writer last wrote, so a second writer of the same checkpoint
 * (a second instance of the consumer) makes the first one fail with CheckpointTakenError rather
 * than both carrying on unaware of each other.
 *
 * Each save is itself an event in `$all`, after the position it stores: a consumer that followed
 * `$all` and saved whenever its position moved would save again because of its own save, forever.
 * `written()` says where the last save lies, so the consumer can tell that apart from progress.
 */
export class CheckpointTakenError extends Error {
  override readonly name = 'CheckpointTakenError';
}

const TYPE = 'CheckpointStored';

export const checkpointStream = (eventStore: EventStore, name: string, { perStream = 1000 } = {}) => {
  const streamOf = (generation: number) => `checkpoint-${name}-${generation}`;
  /** Where the next save goes. Unknown until the first load. */
  let next: { generation: number; revision: number } | undefined;
  /** The position in `$all` of the last checkpoint event this writer read or appended. */
  let written: Position | undefined;

  const isFull = async (generation: number) =>
    (await eventStore.readStream(streamOf(generation), { fromRevision: perStream - 1 })).length > 0;

  /** The first generation that is not full: generations before it are full, those after it empty. */
  const firstNotFull = async () => {
    if (!(await isFull(0))) return 0;
    let low = 0; // full
    let high = 1;
    while (await isFull(high)) {
      low = high;
      high *= 2;
    }
    // low is full, high is not: narrow down to the boundary.
    while (high - low > 1) {
      const mid = Math.floor((low + high) / 2);
      if (await isFull(mid)) low = mid;
      else high = mid;
    }
    return high;
  };

  const positionIn = (event: { data: unknown } | undefined): Position | undefined => {
    if (!event) return undefined;
    const position = positionFromJson(String((event.data as { position?: unknown }).position));
    if (position === undefined) throw new Error(`checkpoint ${name} holds no position`);
    return position;
  };

  /** Finds where the next save goes; returns the saves of that generation. */
  const locate = async () => {
    const generation = await firstNotFull();
    const events = await eventStore.readStream(streamOf(generation));
    next = { generation, revision: events.length };
    written = events.at(-1)?.position ?? written;
    return { generation, events, next };
  };

  return {
    async load(): Promise<Position | undefined> {
      const { generation, events } = await locate();
      const last = events.at(-1);
      if (last) return positionIn(last);
      if (generation === 0) return undefined;
      const [previous] = await eventStore.readStream(streamOf(generation - 1), {
        fromRevision: perStream - 1,
      });
      written = previous?.position ?? written;
      return positionIn(previous);
    },

    async save(position: Position): Promise<void> {
      let at = next ?? (await locate()).next;
      if (at.revision >= perStream) at = { generation: at.generation + 1, revision: 0 };
      const { generation, revision } = at;
      let appended: Position;
      try {
        ({ position: appended } = await eventStore.append(
          streamOf(generation),
          [
            {
              type: TYPE,
              data: { position: positionToJson(position) },
              metadata: {
                eventId: randomUUID(),
                correlationId: name,
                causationId: name,
                occurredAt: new Date().toISOString(),
                schemaVersion: SCHEMA_VERSION,
              },
            },
          ],
          { expectedRevision: revision === 0 ? 'no_stream' : revision - 1 },
        ));
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError)
          throw new CheckpointTakenError(`checkpoint ${name} was written by another instance`);
        // Whether the append landed is unknown: the next save reads again to find out.
        next = undefined;
        throw error;
      }
      next = { generation, revision: revision + 1 };
      written = appended;
    },

    /**
     * Where the last checkpoint event lies in `$all` (known after a load or a save; undefined
     * before either, or when nothing was ever saved).
     */
    written(): Position | undefined {
      return written;
    },
  };
};

export type CheckpointStream = ReturnType<typeof checkpointStream>;
