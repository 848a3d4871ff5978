import type { RecordedEvent } from '../../infra/event-store/event-store.js';
import type { Collection, Sort, WriteOp } from '../../infra/read-store/read-store.js';

/** The writes one event turns into, by collection (as the projection names them). */
export type ProjectionOps = Readonly<Record<string, readonly WriteOp[]>>;

export type IndexSpec = { keys: Sort; unique?: boolean };

export type CollectionSpec = {
  name: string;
  /** Created before the first write, and on the fresh collections of a rebuild. */
  indexes?: readonly IndexSpec[];
};

/** What an after-flush hook learns about the batch just written. */
export type FlushedBatch = {
  projection: string;
  /** The `_id`s the batch wrote, by collection. */
  touched: ReadonlyMap<string, ReadonlySet<string>>;
  /** The projection's collections, as they are now that the batch is written. */
  collection: (name: string) => Collection;
  /** Aborts when the hook has had its time; the projector has moved on by then. */
  signal: AbortSignal;
};

/**
 * A read model, as data: which events it reads, which collections it owns, and a pure function
 * from one event to the writes it makes. The projector does all the I/O (subscription, batching,
 * checkpoints, retries, parking), so a projection is tested by feeding it events.
 */
export type Projection = {
  /** Names the checkpoint, the lease and the parked events: keep it stable. */
  readonly name: string;
  /** The subscription filter: the projector never sees other types. */
  readonly eventTypes: readonly string[];
  readonly streamPrefixes?: readonly string[];
  readonly collections: readonly CollectionSpec[];
  /**
   * The writes `event` makes, in order. Pure: no I/O, no clock (times come from the event's
   * metadata), so replaying an event gives the same writes. Throwing parks the event.
   * Delivery is at least once (a restart replays from the checkpoint, a batch write is retried),
   * so each write must be idempotent: guard it by the stream revision (`guardedUpsert`).
   */
  handle(event: RecordedEvent): ProjectionOps;
  /**
   * Runs after each batch is written and its checkpoint committed, to keep views derived from the
   * read model (a cache) fresh. A failure is logged and counted; it never stops the projection.
   * Rebuilds skip it: they write collections that no one reads yet.
   */
  afterFlush?(batch: FlushedBatch): Promise<void>;
};
