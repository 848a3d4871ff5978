import { LRUCache } from 'lru-cache';

/**
 * A bounded map in process memory, least recently used entries evicted first: for what the layers
 * above keep in memory themselves (the command pipeline's state cache), so that only infra/ talks
 * to the lru-cache package. Bounded by entry count and, with `weigh`, by total weight: an entry
 * heavier than `maxWeight` is not kept at all.
 */
export type BoundedLru<Value> = {
  /** Marks the entry as recently used. */
  get(key: string): Value | undefined;
  /** Looks without marking the entry as used. */
  peek(key: string): Value | undefined;
  set(key: string, value: Value): void;
  delete(key: string): void;
  readonly size: number;
};

export const createBoundedLru = <Value extends object>({
  maxEntries,
  maxWeight,
  weigh,
}: {
  maxEntries: number;
  maxWeight?: number;
  /** A positive integer, taken when the entry is set. */
  weigh?: (value: Value) => number;
}): BoundedLru<Value> => {
  const lru = new LRUCache<string, Value>({
    max: maxEntries,
    ...(maxWeight !== undefined && weigh && { maxSize: maxWeight, sizeCalculation: weigh }),
  });
  return {
    get: (key) => lru.get(key),
    peek: (key) => lru.peek(key),
    set: (key, value) => void lru.set(key, value),
    delete: (key) => void lru.delete(key),
    get size() {
      return lru.size;
    },
  };
};
