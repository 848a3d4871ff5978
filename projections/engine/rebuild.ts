import type { Position } from '../../infra/event-store/event-store.js';
import { checkpointStore } from './checkpoint-store.js';
import { ensureIndexes, newInstanceId, rebuildCollectionName } from './collections.js';
import { type HeldLease, holdLease, LeaseLostError, leaseStore } from './lease.js';
import { parkedEvents } from './parked-events.js';
import { project } from './project.js';
import type { ProjectorOptions } from './projector.js';
import { createCounters } from './projector-counters.js';

export type RebuildProgress = {
  /** `catching-up`: from the start to the head, while the live model keeps serving. `finishing`: under the lease. */
  phase: 'catching-up' | 'finishing';
  eventsProjected: number;
  /** The rebuild's checkpoint. */
  position: Position | undefined;
  /** The head of `$all` this phase runs up to. */
  head: Position | undefined;
};

/** What a live projector needs, less its checkpoint watch and identity, plus progress and cancel. */
export type RebuildOptions = Pick<
  ProjectorOptions,
  'projection' | 'eventStore' | 'readStore' | 'logger' | 'tuning' | 'leaseTtlMs' | 'now'
> & {
  onProgress?: (progress: RebuildProgress) => void;
  /** Cancels the rebuild before the swap; the live model stays as it was. */
  signal?: AbortSignal;
};

export type RebuildResult = {
  projection: string;
  checkpoint: Position | undefined;
  eventsProjected: number;
  parked: number;
};

/**
 * Builds a projection again from the start of the log into fresh collections (`<name>__rebuild`),
 * so reads keep seeing the complete old model meanwhile. Once caught up with the head, it takes
 * the lease (a running projector gives it up at its next renewal), projects the rest, swaps each
 * collection in with one rename, commits its checkpoint and frees the lease: the projector goes on
 * from there. Parked entries the rebuild did not park again are dropped: their events projected.
 * After-flush hooks do not run; cache entries written from the old model expire with their TTL.
 */
export const rebuildProjection = async (options: RebuildOptions): Promise<RebuildResult> => {
  const { projection, eventStore, readStore, tuning, leaseTtlMs, onProgress } = options;
  const { name } = projection;
  const now = options.now ?? (() => new Date());
  const signal = options.signal ?? new AbortController().signal;
  const logger = options.logger.child({ projection: name, rebuild: true });
  const instance = newInstanceId('rebuild');
  const counters = createCounters();
  const cancelled = () => new Error(`rebuild of ${name} cancelled; the live model is unchanged`);

  for (const { name: collection } of projection.collections)
    await readStore.dropCollection(rebuildCollectionName(collection));
  await ensureIndexes(readStore, projection, rebuildCollectionName);

  const run = (
    phase: RebuildProgress['phase'],
    after: Position | undefined,
    head: Position | undefined,
    lease?: HeldLease,
  ) =>
    head === undefined
      ? Promise.resolve(after)
      : project({
          projection,
          eventStore,
          readStore,
          logger,
          tuning,
          counters,
          instance,
          after,
          until: head,
          collectionName: rebuildCollectionName,
          signal,
          ...(lease && {
            abandon: lease.lost,
            assertMayWrite: () => {
              if (!lease.valid()) throw new LeaseLostError(name);
            },
          }),
          onFlushed: (position) =>
            onProgress?.({ phase, eventsProjected: counters.eventsProjected, position, head }),
          now,
        });

  logger.info('rebuild: catching up from the start of the log');
  let checkpoint = await run('catching-up', undefined, await eventStore.headPosition());
  if (signal.aborted) throw cancelled();

  logger.info('rebuild: caught up; taking the lease from the live projector');
  // The store's clock, unless the caller brings one: instances' own clocks may disagree.
  const leases = leaseStore(readStore, options.now ? { now: options.now } : {});
  const lease = await holdLease({
    leases,
    projection: name,
    owner: instance,
    ttlMs: leaseTtlMs,
    logger,
    signal,
    reserve: true,
  });
  if (!lease) throw cancelled();
  try {
    checkpoint = await run('finishing', checkpoint, await eventStore.headPosition(), lease);
    if (signal.aborted) throw cancelled();
    if (!lease.valid()) throw new LeaseLostError(name); // a run that lost the lease returns early

    for (const { name: collection, indexes = [] } of projection.collections) {
      const fresh = rebuildCollectionName(collection);
      // A collection with no index and no document may not exist at all: then the model is empty.
      const exists = indexes.length > 0 || (await readStore.collection(fresh).countDocuments()) > 0;
      if (exists) await readStore.renameCollection(fresh, collection);
      else await readStore.dropCollection(collection);
    }
    if (
      checkpoint !== undefined &&
      !(await checkpointStore(readStore).write(name, checkpoint, lease.epoch, now()))
    )
      throw new LeaseLostError(name);

    const parked = parkedEvents(readStore);
    const stale = (await parked.list(name)).filter((doc) => doc.parkedBy !== instance);
    await parked.remove(stale.map((doc) => doc._id));
    logger.info({ events: counters.eventsProjected, parked: counters.parked }, 'rebuild: swapped in');
  } finally {
    await lease.release();
  }
  return { projection: name, checkpoint, eventsProjected: counters.eventsProjected, parked: counters.parked };
};
