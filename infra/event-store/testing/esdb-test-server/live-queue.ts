/**
 * What a subscription hears while it is registered for live events: a bounded buffer that drops its
 * oldest item when full (the server's live channel: 32 items, DropOldest). Items are numbered, so
 * the reader sees a gap in the numbers when something was dropped and falls back to catching up.
 */
export type LiveQueue<T> = {
  push(item: T): void;
  /** The next item with its number, or undefined once closed. */
  next(): Promise<{ seq: number; item: T } | undefined>;
  close(): void;
};

export const LIVE_BUFFER_SIZE = 32;

export const createLiveQueue = <T>(capacity = LIVE_BUFFER_SIZE): LiveQueue<T> => {
  const buffer: { seq: number; item: T }[] = [];
  let lastSeq = 0;
  let closed = false;
  let wake: (() => void) | undefined;

  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };

  return {
    push(item) {
      if (closed) return;
      lastSeq += 1;
      buffer.push({ seq: lastSeq, item });
      if (buffer.length > capacity) buffer.shift();
      notify();
    },
    async next() {
      while (!closed && buffer.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      return closed ? undefined : buffer.shift();
    },
    close() {
      closed = true;
      notify();
    },
  };
};
