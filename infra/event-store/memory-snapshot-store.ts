import {
  CorruptSnapshotError,
  type Snapshot,
  type SnapshotStore,
  snapshotChecksum,
} from './snapshot-store.js';

type Stored = { revision: number; version: string; json: string; checksum: string };

export type MemorySnapshotStore = SnapshotStore & {
  /** Test hook: changes the stored JSON text of the stream's snapshot behind the store's back. */
  damage(streamId: string, change?: (json: string) => string): void;
};

/** Snapshots in a map, stored as JSON text with a checksum as the other adapters store them. */
export const createMemorySnapshotStore = (): MemorySnapshotStore => {
  const stored = new Map<string, Stored>();
  return {
    async load(streamId) {
      const found = stored.get(streamId);
      if (!found) return undefined;
      const { revision, version, json, checksum } = found;
      if (checksum !== snapshotChecksum(streamId, revision, version, json))
        throw new CorruptSnapshotError(streamId, 'its checksum does not match its content');
      return { streamId, revision, version, data: JSON.parse(json) } satisfies Snapshot;
    },
    async save({ streamId, revision, version, data }) {
      const json = JSON.stringify(data) ?? 'null';
      stored.set(streamId, {
        revision,
        version,
        json,
        checksum: snapshotChecksum(streamId, revision, version, json),
      });
    },
    damage(streamId, change = (json) => json.replace(/\d/, (digit) => String((Number(digit) + 1) % 10))) {
      const found = stored.get(streamId);
      if (!found) throw new Error(`no snapshot of ${streamId}`);
      stored.set(streamId, { ...found, json: change(found.json) });
    },
    async close() {},
  };
};
