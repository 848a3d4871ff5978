import { eventChecksum } from './checksum.js';

/**
 * The snapshot store port: the last snapshot saved of a stream, kept beside its events (a table in
 * the SQLite file, a stream of its own on EventStoreDB, a map in memory). Every adapter passes
 * snapshot-store.contract.ts.
 *
 * A snapshot is an optimisation, never a source of truth: whoever reads one checks it still fits
 * the stream (the command pipeline does, see commands/pipeline/snapshots.ts) and reads the stream
 * instead when it is missing, damaged or stale. A snapshot is never an event: no stream read, read
 * of `$all`, subscription or head position of the event store sees it, so projections, their
 * readiness lag and the process managers never meet one.
 */
export type Snapshot = {
  streamId: string;
  /** Revision of the last event the snapshot reflects. */
  revision: number;
  /** The shape of what `data` holds; a reader ignores a snapshot of a version it does not expect. */
  version: string;
  /** A JSON value, kept as its JSON text. */
  data: unknown;
};

export interface SnapshotStore {
  /**
   * The last snapshot saved for the stream, or undefined when there is none. Throws
   * CorruptSnapshotError when the stored one is not what was saved (its checksum does not match).
   */
  load(streamId: string): Promise<Snapshot | undefined>;
  /** Replaces the stream's snapshot: the last save wins, whatever its revision. */
  save(snapshot: Snapshot): Promise<void>;
  close(): Promise<void>;
}

/** A stored snapshot is not what was saved: read the stream instead, and save a new one. */
export class CorruptSnapshotError extends Error {
  override readonly name = 'CorruptSnapshotError';

  constructor(
    readonly streamId: string,
    readonly reason: string,
  ) {
    super(`stream ${streamId}: the stored snapshot is damaged: ${reason}`);
  }
}

/**
 * The checksum a stored snapshot carries: the event checksum (checksum.ts) over its fields as
 * stored, the version in the place of the type and the JSON text of its data.
 */
export const snapshotChecksum = (streamId: string, revision: number, version: string, json: string): string =>
  eventChecksum({ streamId, revision, type: version, data: json, metadata: '' });
