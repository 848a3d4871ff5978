import { describe, expect, it } from 'vitest';
import { createStateCache, deepFreeze, KEYS_PER_STREAM, type StreamSnapshot } from './state-cache.js';

const snapshot = (revision: number, keys = 0): StreamSnapshot => ({
  revision,
  position: BigInt(revision + 1),
  state: { balance: revision, owner: { name: 'Ada' } },
  keys: new Map(Array.from({ length: keys }, (_, i) => [`k-${i}`, i])),
});

describe('state cache', () => {
  it('keeps the latest revision it was offered for a stream', () => {
    const cache = createStateCache(10);
    cache.offer('s', snapshot(5));
    cache.offer('s', snapshot(3));
    expect(cache.get('s')?.revision).toBe(5);
    cache.offer('s', snapshot(8));
    expect(cache.get('s')?.revision).toBe(8);
    cache.delete('s');
    expect(cache.get('s')).toBeUndefined();
  });

  it('holds at most its size in streams, the least recently used going first', () => {
    const cache = createStateCache(2);
    cache.offer('a', snapshot(1));
    cache.offer('b', snapshot(1));
    cache.get('a');
    cache.offer('c', snapshot(1));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.size).toBe(2);
  });

  it('holds at most its size × KEYS_PER_STREAM idempotency keys, evicting streams to make room', () => {
    const cache = createStateCache(4);
    const budget = 4 * KEYS_PER_STREAM;
    cache.offer('a', snapshot(1, budget / 2));
    cache.offer('b', snapshot(1, budget / 2));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeDefined();
    // A stream with more keys than the whole budget is not kept at all.
    cache.offer('huge', snapshot(1, budget + 1));
    expect(cache.get('huge')).toBeUndefined();
  });

  it('freezes the states it keeps, deeply', () => {
    const cache = createStateCache(1);
    const held = snapshot(1);
    cache.offer('s', held);
    const state = held.state as { balance: number; owner: { name: string } };
    expect(() => {
      state.balance = 0;
    }).toThrow(TypeError);
    expect(() => {
      state.owner.name = 'Bob';
    }).toThrow(TypeError);
  });

  it('of size 0 holds nothing', () => {
    const cache = createStateCache(0);
    cache.offer('s', snapshot(1));
    expect(cache.get('s')).toBeUndefined();
  });
});

describe('deepFreeze', () => {
  it('stops at frozen parts, and leaves typed arrays alone', () => {
    const shared = Object.freeze({ list: [1, 2] });
    const bytes = new Uint8Array([1]);
    const value = { shared, bytes, items: [{ n: 1 }] };
    deepFreeze(value);
    expect(Object.isFrozen(value.items[0])).toBe(true);
    // `shared` was frozen already, so what lies under it was not visited.
    expect(Object.isFrozen(shared.list)).toBe(false);
    bytes[0] = 2;
    expect(bytes[0]).toBe(2);
  });
});
