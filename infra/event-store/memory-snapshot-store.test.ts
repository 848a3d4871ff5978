import { createMemoryEventStore } from './memory-event-store.js';
import { createMemorySnapshotStore } from './memory-snapshot-store.js';
import { snapshotStoreContract } from './snapshot-store.contract.js';

snapshotStoreContract('memory', async () => {
  const events = createMemoryEventStore();
  const snapshots = createMemorySnapshotStore();
  return {
    events,
    snapshots,
    damage: (streamId) => snapshots.damage(streamId),
    close: async () => {
      await snapshots.close();
      await events.close();
    },
  };
});
