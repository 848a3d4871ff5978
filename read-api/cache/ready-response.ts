import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * A response ready to send: the view serialized once, its ETag, and its owner (the subject who may
 * read it, for routes that check ownership) beside the bytes, so that sending it needs neither a
 * parse, nor a serialization, nor a hash.
 */
export type ReadyResponse = {
  readonly body: string;
  /** A strong ETag, quoted: a hash of `body`. */
  readonly etag: string;
  readonly owner: string | undefined;
};

/**
 * How one view becomes a ready response and a cache entry, and back. Its entries are stamped with
 * the view's schema (a hash of its JSON Schema, and `version`): an entry written for another shape
 * of the view (the previous release's, before an upgrade), in another format (a plain JSON
 * document), cut short or otherwise not one of ours (garbage in Redis) reads as absent, never as a
 * response. So it is checked against the schema once, when it is made, not at every hit.
 */
export type ReadyView<View> = {
  /** A view already checked against the schema (a read model document's view): serialized once. */
  ready(view: View): ReadyResponse;
  /** Anything: checked against the schema, then serialized; undefined when it is not a valid view. */
  check(candidate: unknown): ReadyResponse | undefined;
  /** The cache entry of a ready response. */
  encode(response: ReadyResponse): string;
  /** check, then encode: the entry a projector caches for what it wrote; undefined when not a valid view. */
  entryOf(candidate: unknown): string | undefined;
  /** A cache entry back to its ready response; undefined when it is not a valid one of this view. */
  decode(entry: string): ReadyResponse | undefined;
};

export type ReadyViewOptions<View> = {
  /** The subject a route checks before it answers with the view (an owner id), kept beside the bytes. */
  owner?: (view: View) => string;
  /**
   * Bump it when what the view holds changes without its schema changing (a field computed another
   * way): entries made before then are misses, not answered.
   */
  version?: number;
};

/** Starts every entry: a character no JSON text starts with, so a plain JSON entry never passes. */
const MAGIC = '\u0001ready1 ';
const ETAG = /^"[A-Za-z0-9_-]{1,64}"$/;

/** The ETag of a body: sha1 in base64url, quoted (a strong ETag: same bytes, same tag). */
export const etagOf = (body: string) => `"${createHash('sha1').update(body).digest('base64url')}"`;

const stampOf = (schema: z.ZodType, version: number) => {
  const shape = JSON.stringify(z.toJSONSchema(schema, { unrepresentable: 'any', io: 'output' }));
  return createHash('sha256').update(`${version}\n${shape}`).digest('base64url').slice(0, 16);
};

/** The ready responses of views of `schema`. */
export const readyView = <View>(
  schema: z.ZodType<View>,
  { owner, version = 1 }: ReadyViewOptions<View> = {},
): ReadyView<View> => {
  const stamp = stampOf(schema, version);
  const ready = (view: View): ReadyResponse => {
    const body = JSON.stringify(view);
    return { body, etag: etagOf(body), owner: owner?.(view) };
  };
  const check = (candidate: unknown) => {
    const parsed = schema.safeParse(candidate);
    return parsed.success ? ready(parsed.data) : undefined;
  };
  const encode = ({ body, etag, owner: subject }: ReadyResponse) =>
    `${MAGIC}${JSON.stringify([stamp, etag, subject ?? null, body.length])}\n${body}`;
  return {
    ready,
    check,
    encode,
    entryOf(candidate) {
      const response = check(candidate);
      return response && encode(response);
    },
    decode(entry) {
      if (!entry.startsWith(MAGIC)) return undefined;
      const end = entry.indexOf('\n', MAGIC.length);
      if (end < 0) return undefined;
      let header: unknown;
      try {
        header = JSON.parse(entry.slice(MAGIC.length, end));
      } catch {
        return undefined;
      }
      if (!Array.isArray(header) || header.length !== 4) return undefined;
      const [entryStamp, etag, subject, length] = header as unknown[];
      if (entryStamp !== stamp || typeof etag !== 'string' || !ETAG.test(etag)) return undefined;
      if (subject !== null && typeof subject !== 'string') return undefined;
      // Cut short or lengthened: not the body the ETag was made for.
      if (length !== entry.length - end - 1 || entry.charCodeAt(end + 1) !== 123 /* { */) return undefined;
      return { body: entry.slice(end + 1), etag, owner: subject ?? undefined };
    },
  };
};
