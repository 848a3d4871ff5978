import type { EventStore } from '../infra/event-store/event-store.js';
import type { Logger } from '../infra/logger.js';
import type { ReadModelsFileOptions } from '../infra/read-store/read-models-file.js';
import type { ReadStore } from '../infra/read-store/read-store.js';
import { checkpointStore } from '../projections/engine/checkpoint-store.js';
import { LEASES, type LeaseDocument, leaseStore } from '../projections/engine/lease.js';

/**
 * What the embedded read store needs from the rest of the app to live on disk
 * (infra/read-store/read-models-file.ts): the projections' checkpoints, to check them against the
 * log at start, and a release of the leases the previous process left.
 */
export const readModelsOnDisk = ({
  dataDir,
  eventStore,
  logger,
  projections,
}: {
  dataDir: string;
  eventStore: EventStore;
  logger: Logger;
  /** The names of every projection whose checkpoint is kept in the read store. */
  projections: readonly string[];
}): ReadModelsFileOptions => ({
  dataDir,
  eventStore,
  log: logger,
  checkpoints: (store) => Promise.all(projections.map((name) => checkpointStore(store).read(name))),
  prepare: releaseLeasesLeftBehind,
});

/**
 * Leases in the file were held by a process that has ended (this one owns DATA_DIR, so no other
 * process uses the file). After a crash they would keep the projectors waiting for their TTL;
 * released, they are taken at once. Their epochs stay, so checkpoint fencing goes on counting.
 */
export const releaseLeasesLeftBehind = async (store: ReadStore): Promise<void> => {
  const leases = leaseStore(store);
  const held = await store.collection<LeaseDocument>(LEASES).find({ owner: { $ne: null } });
  for (const lease of held) await leases.release(lease._id, lease.owner as string, lease.epoch);
};
