import { ODD, plainKey } from './embedded-keys.js';
import type { Filter, Sort } from './read-store.js';
import { isOperatorObject } from './upsert-document.js';

/**
 * How the embedded store turns a MongoDB filter and sort into SQL over its index columns. The SQL
 * only narrows: it selects a superset of the matching documents (every condition it cannot express
 * is left out), and mingo then tests each candidate, so the answer means what it means in MongoDB.
 * When every condition was expressed (`exact`), the test is skipped and a limit goes into the SQL.
 *
 * A field has a column when a declared index names it (`_id` always: column `id`). A column is
 * trusted only while no document holds a non-plain value in it (embedded-keys.ts); `columnOf`
 * answers undefined otherwise, and the condition falls to mingo.
 */
export type ColumnOf = (field: string) => string | undefined;

export type SqlFilter = {
  /** Conditions joined with AND; '' when none could be expressed. */
  where: string;
  params: unknown[];
  /** True when `where` selects exactly the documents the filter matches. */
  exact: boolean;
};

const RANGES = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' } as const;

export const filterToSql = (filter: Filter, columnOf: ColumnOf): SqlFilter => {
  const conditions: string[] = [];
  const params: unknown[] = [];
  let exact = true;

  const equality = (column: string, value: unknown): boolean => {
    const key = plainKey(value);
    if (key === ODD) return false;
    if (key === null) conditions.push(`${column} IS NULL`);
    else {
      conditions.push(`${column} = ?`);
      params.push(key);
    }
    return true;
  };

  const operator = (column: string, op: string, value: unknown): boolean => {
    if (op === '$eq') return equality(column, value);
    if (op === '$in') {
      if (!Array.isArray(value)) return false;
      const keys = value.map(plainKey);
      if (keys.some((key) => key === ODD)) return false;
      const values = keys.filter((key) => key !== null);
      const parts = values.length > 0 ? [`${column} IN (${values.map(() => '?').join(', ')})`] : [];
      if (values.length < keys.length) parts.push(`${column} IS NULL`);
      conditions.push(parts.length === 0 ? '0' : `(${parts.join(' OR ')})`);
      params.push(...values);
      return true;
    }
    if (op in RANGES) {
      // MongoDB compares within a type: a number bound matches numbers only, a string bound strings
      // only. SQLite sorts every number below every text, so the other end is closed with '' (the
      // least text) to keep the range to one kind. NULL never satisfies a comparison.
      const sign = RANGES[op as keyof typeof RANGES];
      if (typeof value === 'number' && !Number.isNaN(value)) {
        conditions.push(
          sign.startsWith('>') ? `${column} ${sign} ? AND ${column} < ''` : `${column} ${sign} ?`,
        );
      } else if (typeof value === 'string') {
        conditions.push(
          sign.startsWith('<') ? `${column} ${sign} ? AND ${column} >= ''` : `${column} ${sign} ?`,
        );
      } else return false;
      params.push(value);
      return true;
    }
    return false;
  };

  const visit = (part: Filter) => {
    for (const [path, condition] of Object.entries(part)) {
      if (path === '$and' && Array.isArray(condition)) {
        for (const each of condition) visit(each as Filter);
        continue;
      }
      const column = path.startsWith('$') ? undefined : columnOf(path);
      if (column === undefined || condition instanceof RegExp) {
        exact = false;
        continue;
      }
      if (isOperatorObject(condition)) {
        for (const [op, value] of Object.entries(condition)) if (!operator(column, op, value)) exact = false;
      } else if (!equality(column, condition)) exact = false;
    }
  };
  visit(filter);
  return { where: conditions.join(' AND '), params, exact };
};

/**
 * ORDER BY for a sort, when every key has a trusted column, else undefined (the store sorts the
 * candidates itself). Ties go by insertion order (`seq`) in the last key's direction, so an index
 * on the keys serves the ORDER BY, read forwards or backwards.
 */
export const sortToSql = (sort: Sort | undefined, columnOf: ColumnOf): string | undefined => {
  const keys = Object.entries(sort ?? {});
  if (keys.length === 0) return undefined;
  const terms: string[] = [];
  for (const [field, direction] of keys) {
    const column = columnOf(field);
    if (column === undefined) return undefined;
    terms.push(`${column} ${direction === -1 ? 'DESC' : 'ASC'}`);
  }
  terms.push(`seq ${keys.at(-1)?.[1] === -1 ? 'DESC' : 'ASC'}`);
  return terms.join(', ');
};
