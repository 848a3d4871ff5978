import { createEventStoreDbEventStore } from './eventstoredb-event-store.js';
import { createEventStoreDbSnapshotStore, snapshotStreamOf } from './eventstoredb-snapshot-store.js';
import { snapshotStoreContract } from './snapshot-store.contract.js';
import { startEsdbTestServer } from './testing/esdb-test-server/index.js';

// Against the project's wire-level test server (a stand-in for EventStoreDB, see
// testing/esdb-test-server), a new one per test so the contract sees an empty log.
snapshotStoreContract('EventStoreDB wire-level test server', async () => {
  const server = await startEsdbTestServer();
  const events = createEventStoreDbEventStore(server.url);
  const snapshots = createEventStoreDbSnapshotStore(server.url);
  return {
    events,
    snapshots,
    damage: (streamId) => {
      const stream = snapshotStreamOf(streamId);
      // The last snapshot event of the stream (revision 0 in the contract's damage test).
      server.faults.alterEventData(stream, 0, (data) => JSON.parse(JSON.stringify(data).replace('9', '7')));
    },
    close: async () => {
      await snapshots.close();
      await events.close();
      await server.stop();
    },
  };
});
