import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  type JSONType,
  jsonEvent,
  type ResolvedEvent,
  StreamNotFoundError,
} from '@eventstore/db-client';
import { unavailableOnTransient } from './eventstoredb-errors.js';
import {
  CorruptSnapshotError,
  type Snapshot,
  type SnapshotStore,
  snapshotChecksum,
} from './snapshot-store.js';

/**
 * Where a stream's snapshots go: a stream of their own. Not a `$` stream (writing one takes an
 * admin's rights on a server with ACLs), and `:` is a character the pipeline's stream ids
 * (`<category>-<id>`, ids of letters, digits, `-` and `_`) never hold, so it cannot be a domain
 * stream.
 */
export const snapshotStreamOf = (streamId: string) => `snapshot:${streamId}`;

/**
 * A `$` event type: the event store adapter treats such events as the server's own and leaves them
 * out of every read, subscription and head position (isSystem in eventstoredb-event-store.ts), and
 * the server's unfiltered subscriptions exclude them, so no projection or process manager meets one.
 */
export const SNAPSHOT_EVENT_TYPE = '$eventfold-snapshot';

/**
 * Snapshots on EventStoreDB: each save appends one event to the stream's snapshot stream, a load
 * reads that stream's last event backwards. The first save sets the snapshot stream's `$maxCount`
 * to 1 so the server may scavenge older ones (not checked by the wire-level test server, which
 * keeps stream metadata as a plain stream).
 */
export const createEventStoreDbSnapshotStore = (connection: string | EventStoreDBClient): SnapshotStore => {
  const client =
    typeof connection === 'string' ? EventStoreDBClient.connectionString(connection) : connection;
  return {
    load: (streamId) =>
      unavailableOnTransient('read snapshot', async () => {
        let last: ResolvedEvent | undefined;
        const read = client.readStream(snapshotStreamOf(streamId), {
          direction: BACKWARDS,
          fromRevision: END,
          maxCount: 1,
        });
        try {
          for await (const resolved of read) last = resolved;
        } catch (error) {
          if (error instanceof StreamNotFoundError) return undefined;
          throw error;
        }
        const event = last?.event;
        if (!event) return undefined;
        return fromStored(streamId, event.data);
      }),
    save: ({ streamId, revision, version, data }) =>
      unavailableOnTransient('save snapshot', async () => {
        const json = JSON.stringify(data) ?? 'null';
        const stored = {
          revision,
          version,
          data: JSON.parse(json),
          checksum: snapshotChecksum(streamId, revision, version, json),
        };
        const result = await client.appendToStream(
          snapshotStreamOf(streamId),
          jsonEvent({ type: SNAPSHOT_EVENT_TYPE, data: stored as JSONType }),
          { expectedRevision: ANY },
        );
        if (result.nextExpectedRevision === 0n)
          await client.setStreamMetadata(snapshotStreamOf(streamId), { maxCount: 1 }).catch(() => {});
      }),
    async close() {
      if (typeof connection === 'string') await client.dispose();
    },
  };
};

/** The stored event's data as a snapshot, after checking its checksum over the data's JSON text. */
const fromStored = (streamId: string, stored: unknown): Snapshot => {
  const { revision, version, data, checksum } = (stored ?? {}) as Record<string, unknown>;
  const json = JSON.stringify(data) ?? 'null';
  if (
    typeof revision !== 'number' ||
    typeof version !== 'string' ||
    checksum !== snapshotChecksum(streamId, revision, version, json)
  )
    throw new CorruptSnapshotError(streamId, 'its checksum does not match its content');
  return { streamId, revision, version, data };
};
