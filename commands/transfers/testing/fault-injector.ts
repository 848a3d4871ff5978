import { setTimeout as sleep } from 'node:timers/promises';
import type { EventData, EventStore, RecordedEvent } from '../../../infra/event-store/event-store.js';

/** A failure this wrapper made up: what a dropped connection or a timeout looks like to the caller. */
export class InjectedFault extends Error {
  override readonly name = 'InjectedFault';
}

export type Faults = {
  /**
   * For each append: `fail` throws before it reaches the store; `lose-ack` lets it land and then
   * throws, as when the connection drops before the answer comes back; undefined lets it be.
   */
  append?: (streamId: string, events: readonly EventData[]) => 'fail' | 'lose-ack' | undefined;
  /** For each stream read: true throws instead of reading. */
  readStream?: (streamId: string) => boolean;
  /** For each event a subscription is about to deliver: true ends the subscription with an error. */
  subscription?: (event: RecordedEvent) => boolean;
  /** Milliseconds each append and stream read waits first, so concurrent callers interleave. */
  delayMs?: () => number;
};

/**
 * Wraps a real store and makes some calls fail the way a remote store can, deciding call by call.
 * It never changes what a call that succeeds returns: the store behind it stays the real thing.
 */
export const withFaults = (store: EventStore, faults: Faults): EventStore => {
  const pause = async () => {
    const ms = faults.delayMs?.() ?? 0;
    if (ms > 0) await sleep(ms);
  };
  return {
    ...store,
    async append(streamId, events, options) {
      await pause();
      const fault = faults.append?.(streamId, events);
      if (fault === 'fail') throw new InjectedFault(`append to ${streamId} failed`);
      const result = await store.append(streamId, events, options);
      if (fault === 'lose-ack') throw new InjectedFault(`append to ${streamId} landed, answer lost`);
      return result;
    },
    async readStream(streamId, options) {
      await pause();
      if (faults.readStream?.(streamId)) throw new InjectedFault(`read of ${streamId} failed`);
      return store.readStream(streamId, options);
    },
    subscribeToAll(options) {
      const inner = store.subscribeToAll(options);
      return {
        async *[Symbol.asyncIterator]() {
          for await (const event of inner) {
            if (faults.subscription?.(event)) throw new InjectedFault('subscription dropped');
            yield event;
          }
        },
      };
    },
  };
};

/**
 * A store a process can lose, as when it crashes: after `sever()`, every call through this handle
 * throws and its subscriptions end, while the store itself (and any other handle) carries on.
 * What was in flight at that moment either landed before or fails, as in a real crash.
 */
export const severable = (store: EventStore) => {
  let severed = false;
  const handle = withFaults(store, {
    append: () => (severed ? 'fail' : undefined),
    readStream: () => severed,
    subscription: () => severed,
  });
  return {
    store: {
      ...handle,
      async headPosition() {
        if (severed) throw new InjectedFault('this process is gone');
        return store.headPosition();
      },
    } satisfies EventStore,
    sever: () => {
      severed = true;
    },
  };
};
