import { setTimeout as sleep } from 'node:timers/promises';
import type { EventStore } from '../event-store.js';

/**
 * Wraps a store so that reads and appends take a random 0..maxMs: in tests this makes concurrent
 * commands interleave between their read and their append the way they do against a real server.
 */
export const withLatency = (store: EventStore, maxMs: number): EventStore => {
  const pause = () => sleep(Math.random() * maxMs);
  return {
    ...store,
    append: async (...args) => {
      await pause();
      return store.append(...args);
    },
    readStream: async (...args) => {
      await pause();
      return store.readStream(...args);
    },
  };
};
