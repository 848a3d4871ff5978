/**
 * What the read API counts, for logs and metrics: how the cache serves, and how reads that asked
 * for a position (x-min-position) fared. Plain counters that only grow, so an exporter can publish
 * them as Prometheus counters by reading a snapshot.
 */
export type ReadStats = {
  /** Served from the cache. */
  cacheHits: number;
  /** Not in the cache: read from the read model. */
  cacheMisses: number;
  /** Entries written back after a miss (a newer entry already there is kept, and not counted). */
  cacheFills: number;
  /** Cache calls that failed or timed out: the read went on to the read model. */
  cacheErrors: number;
  /** Entries that did not parse as the view they should hold: treated as a miss. */
  cacheInvalid: number;
  /** Reads that waited for a position. */
  consistencyWaits: number;
  /** Of those, answered 503 because the projection did not reach the position in time. */
  consistencyTimeouts: number;
  /** Of those, abandoned because the client went away. */
  consistencyAborts: number;
  /** Read-model documents that did not make a valid view: logged, and answered as absent. */
  invalidDocuments: number;
};

export const createReadStats = (): ReadStats => ({
  cacheHits: 0,
  cacheMisses: 0,
  cacheFills: 0,
  cacheErrors: 0,
  cacheInvalid: 0,
  consistencyWaits: 0,
  consistencyTimeouts: 0,
  consistencyAborts: 0,
  invalidDocuments: 0,
});
