import { hash } from 'node:crypto';
import { z } from 'zod';

/**
 * The idempotency keys of a stream's events up to a snapshot, as a Bloom filter: "certainly not
 * there" or "perhaps there". A snapshot stores this rather than the keys themselves because keys
 * never expire for a process manager's steps (`transfer:<id>:withdraw`): an account that took
 * 100,000 transfer legs holds 100,000 keys, some 5 MB of JSON to rewrite with every snapshot, where
 * this filter is about 180 kB (14.4 bits a key for one false "perhaps" in a thousand).
 *
 * It never says "not there" for a key it was given, so a repeated command is never taken for a new
 * one. On "perhaps" the pipeline reads the stream from its start to look (what it did for every
 * cold command before snapshots), which a false "perhaps" costs once in a thousand new keys.
 */
export type KeyFilter = {
  readonly bits: Uint8Array;
  /** Bit positions per key. */
  readonly hashes: number;
  /** Keys added so far (a key added twice counts twice). */
  readonly count: number;
  /** Keys it holds at FALSE_PERHAPS; beyond that the false "perhaps" grow more frequent. */
  readonly capacity: number;
};

/** Aimed-for share of keys never added for which the filter still says "perhaps". */
export const FALSE_PERHAPS = 0.001;
const MIN_CAPACITY = 256;

/** Bytes of bits for a filter of `capacity` keys. */
const bytesFor = (capacity: number) =>
  Math.ceil(Math.ceil((-capacity * Math.log(FALSE_PERHAPS)) / Math.LN2 ** 2) / 8);

export const emptyKeyFilter = (capacity: number): KeyFilter => {
  const keys = Math.max(MIN_CAPACITY, Math.ceil(capacity));
  const bits = bytesFor(keys) * 8;
  return {
    bits: new Uint8Array(bits / 8),
    hashes: Math.max(1, Math.round((bits / keys) * Math.LN2)),
    count: 0,
    capacity: keys,
  };
};

/** A new filter: `filter` (not changed) and `keys`. */
export const withKeys = (filter: KeyFilter, keys: Iterable<string>): KeyFilter => {
  const bits = filter.bits.slice();
  let count = filter.count;
  for (const key of keys) {
    for (const bit of bitsOf(key, filter.hashes, bits.length * 8)) bits[bit >>> 3]! |= 1 << (bit & 7);
    count += 1;
  }
  return { ...filter, bits, count };
};

/** False: the key was never added. True: it may have been. */
export const mayHold = (filter: KeyFilter, key: string): boolean => {
  for (const bit of bitsOf(key, filter.hashes, filter.bits.length * 8))
    if ((filter.bits[bit >>> 3]! & (1 << (bit & 7))) === 0) return false;
  return true;
};

/** Double hashing (Kirsch and Mitzenmacher): k positions from two 32-bit halves of one SHA-256. */
function* bitsOf(key: string, hashes: number, size: number) {
  const digest = hash('sha256', key, 'buffer');
  const h1 = digest.readUInt32LE(0);
  const h2 = digest.readUInt32LE(4) | 1;
  for (let i = 0; i < hashes; i++) yield ((h1 + Math.imul(i, h2)) >>> 0) % size;
}

/**
 * A filter in a snapshot's JSON: its bits in base64. Checked by their decoded length, not by a
 * base64 pattern, which costs more than the rest of a load for a large filter (the snapshot's
 * checksum already stands for its content).
 */
export const KeyFilterJson = z.object({
  bits: z.string(),
  hashes: z.number().int().min(1).max(64),
  count: z.number().int().nonnegative(),
  capacity: z.number().int().positive(),
});
export type KeyFilterJson = z.infer<typeof KeyFilterJson>;

export const keyFilterToJson = ({ bits, hashes, count, capacity }: KeyFilter): KeyFilterJson => ({
  bits: Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength).toString('base64'),
  hashes,
  count,
  capacity,
});

export const keyFilterFromJson = ({ bits, hashes, count, capacity }: KeyFilterJson): KeyFilter => {
  const decoded = Buffer.from(bits, 'base64');
  if (decoded.length !== bytesFor(capacity))
    throw new Error('a key filter whose bits do not fit its capacity');
  return { bits: new Uint8Array(decoded), hashes, count, capacity };
};
