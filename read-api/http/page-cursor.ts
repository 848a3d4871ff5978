import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { HttpProblem } from '../../infra/http/problem-details.js';

/**
 * Opaque page cursors: `<payload>.<tag>`, where the payload is the base64url JSON of the last sort
 * key a page returned, and the tag a truncated SHA-256 of that payload and the query it belongs to.
 *
 * The tag turns a cursor that was edited, truncated or replayed against another query (another
 * owner, another account) into a clean 400 instead of a page that starts somewhere else. It is not
 * a secret MAC, and needs none: a cursor only says where to resume, the key inside is validated
 * like any input, and a forged one can only start a page the caller may request anyway.
 */
const TAG_BYTES = 12;
const CURSOR_SHAPE = /^[A-Za-z0-9_-]{1,256}\.[A-Za-z0-9_-]{16}$/;

const tagOf = (payload: string, scope: string) =>
  createHash('sha256')
    .update(scope)
    .update('\0')
    .update(payload)
    .digest()
    .subarray(0, TAG_BYTES)
    .toString('base64url');

/** `scope` names the query (route and filters) the cursor may be used with. */
export const encodeCursor = (key: unknown, scope: string): string => {
  const payload = Buffer.from(JSON.stringify(key)).toString('base64url');
  return `${payload}.${tagOf(payload, scope)}`;
};

const invalidCursor = (detail: string) =>
  new HttpProblem(400, 'invalid-cursor', 'Invalid page cursor', `${detail}; start again without a cursor`);

/** The sort key inside `cursor`, or a 400 problem when the cursor was not issued for this query. */
export const decodeCursor = <Key>(cursor: string, scope: string, keySchema: z.ZodType<Key>): Key => {
  if (!CURSOR_SHAPE.test(cursor)) throw invalidCursor('cursor is malformed');
  const [payload = '', tag] = cursor.split('.');
  if (tag !== tagOf(payload, scope)) throw invalidCursor('cursor was altered or belongs to another query');
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor('cursor is malformed');
  }
  const parsed = keySchema.safeParse(key);
  if (!parsed.success) throw invalidCursor('cursor holds an invalid key');
  return parsed.data;
};
