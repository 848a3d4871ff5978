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
  /** What is cached for a document (default: the document). */
  value?: (doc: T) => unknown;
  ttlSeconds: number;
};

/**
 * An after-flush hook that keeps a cache in step with a collection: every document the batch wrote
 * is read back and cached under its version, and one that is gone is evicted. Reading back, not
 * replaying the writes, is what makes the entry the whole document as it now stands.
 */
export const cacheDocuments =
  <T extends Document>({
    cache,
    collection,
    key,
    version,
    value = (doc) => doc,
    ttlSeconds,
  }: CacheDocumentsOptions<T>) =>
  async ({ touched, collection: open }: FlushedBatch): Promise<void> => {
    const ids = touched.get(collection);
    if (!ids || ids.size === 0) return;
    const docs = (await open(collection).find({ _id: { $in: [...ids] } })) as T[];
    const found = new Set(docs.map((doc) => doc._id));
    const results = await Promise.allSettled([
      ...docs.map((doc) =>
        cache.set(key(doc._id), JSON.stringify(value(doc)), { version: version(doc), ttlSeconds }),
      ),
      ...[...ids].filter((id) => !found.has(id)).map((id) => cache.delete(key(id))),
    ]);
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    if (failures.length > 0)
      throw new AggregateError(failures, `${failures.length} of ${results.length} cache writes failed`);
  };
