import { describe, expect, it } from 'vitest';
import {
  emptyKeyFilter,
  FALSE_PERHAPS,
  KeyFilterJson,
  keyFilterFromJson,
  keyFilterToJson,
  mayHold,
  withKeys,
} from './key-filter.js';

const keys = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}:${i}:withdraw`);

describe('key filter', () => {
  const added = keys('transfer', 20_000);
  const filter = withKeys(emptyKeyFilter(added.length), added);

  it('never says "no" for a key it was given', () => {
    expect(added.filter((key) => !mayHold(filter, key))).toEqual([]);
  });

  it('says "perhaps" for about one key in a thousand it was not given, at its capacity', () => {
    const others = keys('other', 20_000);
    const perhaps = others.filter((key) => mayHold(filter, key)).length / others.length;
    expect(perhaps).toBeLessThan(FALSE_PERHAPS * 3);
  });

  it('adding makes a new filter and leaves the old one as it was', () => {
    const before = withKeys(emptyKeyFilter(10), ['a']);
    const after = withKeys(before, ['b']);
    expect([mayHold(before, 'b'), mayHold(after, 'b'), mayHold(after, 'a')]).toEqual([false, true, true]);
    expect([before.count, after.count]).toEqual([1, 2]);
  });

  it('comes back from its JSON as it was, and JSON without bits is refused', () => {
    const json = KeyFilterJson.parse(JSON.parse(JSON.stringify(keyFilterToJson(filter))));
    const back = keyFilterFromJson(json);
    expect(back).toEqual(filter);
    expect(added.every((key) => mayHold(back, key))).toBe(true);
    expect(() => keyFilterFromJson({ ...json, bits: '' })).toThrow();
    expect(() => keyFilterFromJson({ ...json, bits: json.bits.slice(8) })).toThrow();
    expect(() => keyFilterFromJson({ ...json, capacity: json.capacity * 2 })).toThrow();
  });

  it('is about 14.4 bits a key', () => {
    expect(filter.bits.length).toBeLessThan((added.length * 14.5) / 8);
    expect(filter.hashes).toBe(10);
  });
});
