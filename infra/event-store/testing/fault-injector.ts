import { setTimeout as sleep } from 'node:timers/promises';
import {
  type EventData,
  type EventStore,
  EventStoreUnavailableError,
  type RecordedEvent,
} from '../event-store.js';

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
  /** For each call of headPosition: true throws instead of answering. */
  headPosition?: () => boolean;
  /** Milliseconds each append and stream read waits first, so concurrent callers interleave. */
  delayMs?: () => number;
  /** What a fault throws. Default: an InjectedFault, an error the caller knows nothing about. */
  error?: (message: string) => Error;
};

/**
 * Wraps a real store and makes some calls fail the way a remote store can, deciding call by call.
 * It never changes what a call that succeeds returns: the store behind it stays the real thing.
 */
export const withFaults = (store: EventStore, faults: Faults): EventStore => {
  const fault = (message: string) => faults.error?.(message) ?? new InjectedFault(message);
  const pause = async () => {
    const ms = faults.delayMs?.() ?? 0;
    if (ms > 0) await sleep(ms);
  };
  return {
    ...store,
    async append(streamId, events, options) {
      await pause();
      const what = faults.append?.(streamId, events);
      if (what === 'fail') throw fault(`append to ${streamId} failed`);
      const result = await store.append(streamId, events, options);
      if (what === 'lose-ack') throw fault(`append to ${streamId} landed, answer lost`);
      return result;
    },
    async readStream(streamId, options) {
      await pause();
      if (faults.readStream?.(streamId)) throw fault(`read of ${streamId} failed`);
      return store.readStream(streamId, options);
    },
    async headPosition() {
      if (faults.headPosition?.()) throw fault('head of $all unknown');
      return store.headPosition();
    },
    subscribeToAll(options) {
      const inner = store.subscribeToAll(options);
      return {
        async *[Symbol.asyncIterator]() {
          for await (const event of inner) {
            if (faults.subscription?.(event)) throw fault('subscription dropped');
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
    headPosition: () => severed,
  });
  return {
    store: handle,
    sever: () => {
      severed = true;
    },
  };
};

/**
 * A store that cannot be reached for a while, as EventStoreDB while it is down or while its client
 * reconnects: the calls it fails throw EventStoreUnavailableError, and reach the store behind it
 * no more than a refused connection would. `failNext(n)`: the next n calls (stream reads, appends,
 * head) fail; `loseNextAcks(n)`: the next n appends land, then fail, as when the answer is lost on
 * the way back; `down()` until `up()`: every call fails. Subscriptions are left alone. `faults`
 * counts the calls it failed.
 */
export const unreachable = (store: EventStore) => {
  let failing = 0;
  let losingAcks = 0;
  let isDown = false;
  let faults = 0;
  const fails = () => {
    if (!isDown && failing === 0) return false;
    if (!isDown) failing--;
    faults++;
    return true;
  };
  const handle = withFaults(store, {
    error: (message) => new EventStoreUnavailableError(`UNAVAILABLE: ${message}`),
    append: () => {
      if (fails()) return 'fail';
      if (losingAcks === 0) return undefined;
      losingAcks--;
      faults++;
      return 'lose-ack';
    },
    readStream: fails,
    headPosition: fails,
  });
  return {
    store: handle,
    failNext(calls: number) {
      failing = calls;
    },
    loseNextAcks(appends: number) {
      losingAcks = appends;
    },
    down() {
      isDown = true;
    },
    up() {
      isDown = false;
    },
    get faults() {
      return faults;
    },
  };
};
