import type { Cache } from '../../infra/cache/cache.js';
import type { Document } from '../../infra/read-store/read-store.js';
import type { FlushedBatch } from './projection.js';

export type CacheDocumentsOptions<T extends Document> = {
  cache: Cache;
  /** The projection's collection whose documents the cache mirrors. */
  collection: string;
  key: (id: string) => string;
  /** Orders entries: the cache never replaces an entry with an older version. */
  version: (doc: T) => number;
  /** What is cached for a document, as JSON (default: the document). Ignored when `entry` is given. */
  value?: (doc: T) => unknown;
  /**
   * The cache entry of a document as it is stored, made once here rather than at every read: the
   * read API's ready response (read-api/cache/ready-response.ts), its view checked against the
   * view's schema. Undefined: the document makes no valid entry, and whatever entry its key held is
   * evicted, so reads go to the read model (which answers such a document as absent, and logs it).
   */
  entry?: (doc: T) => string | undefined;
  ttlSeconds: number;
};

/**
 * An after-flush hook that keeps a cache in step with a collection: every document the batch wrote
 * is read back and cached under its version, and one that is gone (or makes no valid entry) is
 * evicted. Reading back, not
 * replaying the writes, is what makes the entry the whole document as it now stands.
 */
export const cacheDocuments =
  <T extends Document>({
    cache,
    collection,
    key,
    version,
    value = (doc) => doc,
    entry = (doc) => JSON.stringify(value(doc)),
    ttlSeconds,
  }: CacheDocumentsOptions<T>) =>
  async ({ touched, collection: open }: FlushedBatch): Promise<void> => {
    const ids = touched.get(collection);
    if (!ids || ids.size === 0) return;
    const docs = (await open(collection).find({ _id: { $in: [...ids] } })) as T[];
    const entries = docs.map((doc) => ({ doc, text: entry(doc) }));
    const cached = new Set(entries.flatMap(({ doc, text }) => (text === undefined ? [] : [doc._id])));
    const results = await Promise.allSettled([
      ...entries.flatMap(({ doc, text }) =>
        text === undefined ? [] : [cache.set(key(doc._id), text, { version: version(doc), ttlSeconds })],
      ),
      ...[...ids].filter((id) => !cached.has(id)).map((id) => cache.delete(key(id))),
    ]);
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    if (failures.length > 0)
      throw new AggregateError(failures, `${failures.length} of ${results.length} cache writes failed`);
  };
