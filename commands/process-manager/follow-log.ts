import type {
  EventFilter,
  EventStore,
  Position,
  RecordedEvent,
} from '../../infra/event-store/event-store.js';

/**
 * Follows `$all` from a checkpoint, filtered: catch-up, then live, until `signal` aborts. After a
 * failure it subscribes again from the last event taken, after `pause(failures)`.
 *
 * Backpressure: before taking an event it asks `hasRoom()`, and while there is none awaits
 * `room()`, so a consumer with too much in hand holds the subscription back. Positions the subscription looked at without delivering anything
 * (filtered out) are reported to `scanned`, so a checkpoint can move past them.
 */
export const followLog = async ({
  eventStore,
  from,
  filter,
  signal,
  hasRoom,
  room,
  take,
  scanned,
  onFailure,
}: {
  eventStore: EventStore;
  from: Position | undefined;
  filter: EventFilter;
  signal: AbortSignal;
  hasRoom(): boolean;
  /** Resolves once the consumer may have room again (or `signal` aborted). */
  room(): Promise<void>;
  take(event: RecordedEvent): void;
  scanned(position: Position): void;
  /** Logs the failure and pauses before the next subscription (`failures` in a row, from 1). */
  onFailure(error: unknown, failures: number): Promise<void>;
}): Promise<void> => {
  let after = from;
  for (let failures = 0; !signal.aborted; ) {
    try {
      for await (const event of eventStore.subscribeToAll({ after, filter, signal, onCheckpoint: scanned })) {
        failures = 0;
        while (!hasRoom() && !signal.aborted) await room();
        if (signal.aborted) break;
        after = event.position;
        take(event);
      }
    } catch (error) {
      failures++;
      await onFailure(error, failures);
    }
  }
};
