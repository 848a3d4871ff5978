import { resolve } from 'mingo/util';

/**
 * What the embedded store writes into its index columns. SQLite orders NULL < numbers < text, which
 * is MongoDB's order for null (or missing) < numbers < strings, and compares numbers numerically
 * and text byte by byte in UTF-8 as MongoDB does. So a column holding a document's field as one of
 * those three kinds can be searched and sorted by SQLite with MongoDB's meaning. Any other value
 * (an array, whose elements MongoDB matches one by one, an object, a boolean, a date, NaN) has no
 * such column value: the document is marked ODD for that column, and queries stop trusting the
 * column while a document is so marked (see embedded-query.ts).
 */
export type PlainKey = string | number | null;
export const ODD = Symbol('odd');

/** The key of one value: itself when plain, null for null or missing, else ODD. */
export const plainKey = (value: unknown): PlainKey | typeof ODD => {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isNaN(value) ? ODD : value;
  return ODD;
};

/**
 * The value at a dotted path, or ODD when the path crosses an array (MongoDB would look into each
 * element) or an object that is not a plain record.
 */
export const fieldValue = (doc: Record<string, unknown>, path: string): unknown => {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value) || value instanceof Date) return ODD;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
};

export const fieldKey = (doc: Record<string, unknown>, path: string): PlainKey | typeof ODD => {
  const value = fieldValue(doc, path);
  return value === ODD ? ODD : plainKey(value);
};

/**
 * A unique index's key for one document: as MongoDB indexes a missing field as null, two
 * documents without it collide. SQLite lets NULLs repeat in a UNIQUE column, so this is text, never
 * NULL. (The same rule the in-memory store applied, with mingo's path resolution.)
 */
export const uniqueKey = (doc: Record<string, unknown>, fields: readonly string[]): string =>
  JSON.stringify(fields.map((field) => resolve(doc, field) ?? null));

/**
 * The `id` column: the `_id` itself when it is a string or a number (so `_id: 'a'` and `_id: 1`
 * stay apart, as in MongoDB), else a text no string `_id` can equal.
 */
export const idKey = (id: unknown): string | number =>
  typeof id === 'string' || (typeof id === 'number' && !Number.isNaN(id))
    ? id
    : `\u0000${JSON.stringify(id)}`;
