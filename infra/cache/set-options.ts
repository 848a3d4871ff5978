/**
 * Checks a `set`'s options the same way in every adapter and gives the TTL in milliseconds.
 * Fractions of a second are allowed: ttlSeconds is a duration, not a clock tick.
 */
export const ttlMilliseconds = ({ version, ttlSeconds }: { version: number; ttlSeconds: number }) => {
  if (!Number.isFinite(version))
    throw new RangeError(`cache version must be a finite number, got ${version}`);
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`cache ttlSeconds must be a positive number, got ${ttlSeconds}`);
  }
  return Math.ceil(ttlSeconds * 1000);
};
