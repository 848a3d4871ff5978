import { z } from 'zod';
import { encodeCursor } from './page-cursor.js';

export const PAGE_LIMIT_MAX = 100;
export const PAGE_LIMIT_DEFAULT = 20;

// Digits only: a coercing number schema would also take "1e1", "0x14" or " 5".
const Limit = z
  .string()
  .regex(/^[0-9]{1,3}$/, `limit must be an integer from 1 to ${PAGE_LIMIT_MAX}`)
  .transform(Number)
  .pipe(z.number().int().min(1).max(PAGE_LIMIT_MAX))
  .optional()
  .default(PAGE_LIMIT_DEFAULT)
  .describe(`Items per page, 1 to ${PAGE_LIMIT_MAX} (default ${PAGE_LIMIT_DEFAULT})`);

const Cursor = z
  .string()
  .max(300)
  .optional()
  .describe('The nextCursor of the previous page, with the same filters; absent for the first page');

/** The query parameters every paged route takes; routes add their filters to it. */
export const pageQuery = { limit: Limit, cursor: Cursor };

export const pageOf = <Item extends z.ZodType>(item: Item) =>
  z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last page'),
  });

/**
 * Turns `limit + 1` rows, read in sort order, into a page: the extra row only says that another
 * page exists, so the last page has a null cursor instead of an empty page after it. A row without
 * a view (undefined: not a valid document) is left out; the cursor still resumes after it.
 */
export const toPage = <Row, Item>(
  rows: readonly Row[],
  limit: number,
  view: (row: Row) => Item | undefined,
  sortKeyOf: (row: Row) => string | number,
  scope: string,
) => {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const items: Item[] = [];
  for (const row of page) {
    const item = view(row);
    if (item !== undefined) items.push(item);
  }
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(sortKeyOf(last), scope) : null,
  };
};
