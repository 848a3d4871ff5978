// The updater module on its own: mingo's root `update` merges every expression operator into its
// context on each call, which made each write about 2.5x slower.
import { update as mingoUpdate } from 'mingo/updater';
import { setValue } from 'mingo/util';
import type { Filter, Update } from './read-store.js';

/**
 * MongoDB's upsert rules, evaluated here: the embedded store inserts what they give, and the
 * MongoDB adapter uses them to write a guarded upsert as two writes that never collide (see
 * mongo-read-store.ts). Update operators are mingo's, so they mean what they mean in MongoDB.
 */

/** Applies update operators to `doc` in place, copying values out of `update`. */
export const applyUpdate = (doc: Record<string, unknown>, update: Update): void => {
  if (Object.keys(update).length === 0) return;
  if (applySimpleUpdate(doc, update)) return;
  // 'deep' copies values out of the caller's update, so later changes to it cannot reach the store.
  mingoUpdate(doc, update, undefined, undefined, { cloneMode: 'deep' });
};

/**
 * What projections write most, without mingo: `$set` and `$inc` of top-level fields. Each mingo
 * update call sets up its operator context again, which made it about 80 % of an embedded
 * guarded upsert's cost (a CPU profile of bench:read-store's fill). Anything else, or an `$inc` of
 * a field that is not a number, returns false and goes to mingo, whose semantics these match.
 */
const applySimpleUpdate = (doc: Record<string, unknown>, update: Update): boolean => {
  const seen = new Set<string>();
  for (const [operator, fields] of Object.entries(update)) {
    if ((operator !== '$set' && operator !== '$inc') || !isPlainFields(fields)) return false;
    for (const field of Object.keys(fields)) {
      if (seen.has(field)) return false; // MongoDB refuses two operators on one field: mingo says so
      seen.add(field);
    }
    if (operator === '$inc')
      for (const [field, amount] of Object.entries(fields))
        if (typeof amount !== 'number' || !(doc[field] === undefined || typeof doc[field] === 'number'))
          return false;
  }
  for (const [operator, fields] of Object.entries(update) as [string, Record<string, unknown>][]) {
    for (const [field, value] of Object.entries(fields)) {
      if (operator === '$inc') doc[field] = ((doc[field] as number | undefined) ?? 0) + (value as number);
      else doc[field] = typeof value === 'object' && value !== null ? structuredClone(value) : value;
    }
  }
  return true;
};

const isPlainFields = (fields: unknown): fields is Record<string, unknown> =>
  typeof fields === 'object' &&
  fields !== null &&
  !Array.isArray(fields) &&
  Object.keys(fields).every((field) => !field.includes('.') && !field.startsWith('$') && field !== '');

export const isOperatorObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  !(value instanceof Date) &&
  Object.keys(value).some((key) => key.startsWith('$'));

/** The fields an upsert's new document starts from: the filter's equalities, through $and. */
export const seedFromFilter = (filter: Filter): Record<string, unknown> => {
  const seed: Record<string, unknown> = {};
  const visit = (conditions: Filter) => {
    for (const [path, condition] of Object.entries(conditions)) {
      if (path === '$and' && Array.isArray(condition)) {
        for (const part of condition) visit(part as Filter);
      } else if (path.startsWith('$') || condition instanceof RegExp) {
        // $or, $nor, $expr and regular expressions name no single value
      } else if (isOperatorObject(condition)) {
        if ('$eq' in condition) setValue(seed, path, structuredClone(condition.$eq));
      } else {
        setValue(seed, path, structuredClone(condition));
      }
    }
  };
  visit(filter);
  return seed;
};

/**
 * The document an upsert inserts when its filter matches nothing: the filter's equalities, then
 * the update's operators, then $setOnInsert. Without an `_id` when neither names one.
 */
export const upsertDocument = (filter: Filter, update: Update): Record<string, unknown> => {
  const { $setOnInsert, ...onMatch } = update;
  const seeded = seedFromFilter(filter);
  applyUpdate(seeded, onMatch);
  if ($setOnInsert !== undefined) applyUpdate(seeded, { $set: $setOnInsert });
  return seeded;
};
