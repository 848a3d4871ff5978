import { type EventStore, type Position, positionToJson } from '../../infra/event-store/event-store.js';
import type { ReadStore } from '../../infra/read-store/read-store.js';
import { backoffDelayMs, sleep } from '../../infra/retry/backoff.js';
import { blockedStreams } from './blocked-streams.js';
import { checkpointStore } from './checkpoint-store.js';
import type { CheckpointWatch } from './checkpoint-watch.js';
import { ensureIndexes, newInstanceId } from './collections.js';
import { type HeldLease, holdLease, LeaseLostError, leaseStore } from './lease.js';
import type { Logger } from './logger.js';
import { parkedEvents } from './parked-events.js';
import { project, type Tuning } from './project.js';
import type { Projection } from './projection.js';
import { createCounters, createRateMeter, type ProjectorCounters } from './projector-counters.js';

export type ProjectorOptions = {
  projection: Projection;
  eventStore: EventStore;
  readStore: ReadStore;
  logger: Logger;
  tuning: Tuning;
  /** How long a lease lasts unrenewed; the holder renews it every third of that. */
  leaseTtlMs: number;
  /** Told of every checkpoint this projector commits. */
  watch: CheckpointWatch;
  /** Names this instance in the lease and on parked events. */
  instance?: string;
  /** Lag is counted by reading at most this many events after the checkpoint. */
  lagCountLimit?: number;
  /** Stamps checkpoints and parked events; leases too when given, else they take the read store's clock. */
  now?: () => Date;
};

export type ProjectionStats = ProjectorCounters & {
  projection: string;
  /** Whether this instance holds the lease and projects; another instance may be doing it. */
  leading: boolean;
  /** The stored checkpoint (whoever wrote it), as a decimal string; null before the first. */
  checkpoint: string | null;
  /** The last position in `$all`; null when the log is empty. */
  head: string | null;
  /**
   * Events in `$all` after the checkpoint, counted up to the lag count limit (`atLeast` when it
   * hit the limit). Positions are opaque, so this is counted, not subtracted.
   */
  lag: { events: number; atLeast: boolean };
  /** Over the last ten seconds, by this instance. */
  eventsPerSecond: number;
  /** Parked events of this projection waiting for a fix and a replay (all instances). */
  parkedWaiting: number;
};

export type Projector = {
  readonly name: string;
  /** Whether this instance holds the lease now. */
  leading(): boolean;
  stats(): Promise<ProjectionStats>;
  /** Writes the pending batch, commits its checkpoint and frees the lease for another instance. */
  stop(): Promise<void>;
};

const MIN_RESTART_DELAY_MS = 50;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * Runs one projection for as long as this process lives: wait for the lease, read the
 * checkpoint, project; on losing the lease, stop applying and wait for it again; on an error,
 * start again from the stored checkpoint after a growing pause. Replays that follow are safe:
 * every write is guarded by the revision it reflects.
 */
export const startProjector = (options: ProjectorOptions): Projector => {
  const { projection, eventStore, readStore, tuning, leaseTtlMs, watch } = options;
  const { name } = projection;
  const now = options.now ?? (() => new Date());
  const instance = options.instance ?? newInstanceId();
  const logger = options.logger.child({ projection: name });
  const checkpoints = checkpointStore(readStore);
  // The store's clock, unless the caller brings one: instances' own clocks may disagree.
  const leases = leaseStore(readStore, options.now ? { now: options.now } : {});
  const parked = parkedEvents(readStore);
  const blocked = blockedStreams((streamIds) => parked.blockedStreams(name, streamIds));
  const counters = createCounters();
  const rate = createRateMeter();
  const stopping = new AbortController();
  let leading = false;
  let indexed = false;

  const session = async (lease: HeldLease) => {
    if (!indexed) {
      await ensureIndexes(readStore, projection);
      indexed = true;
    }
    // Read under the lease: whatever the previous holder committed (and parked) is where this run starts.
    const after = await checkpoints.read(name);
    await blocked.reload();
    if (after !== undefined) watch.advance(name, after);
    logger.info(
      { after: after === undefined ? null : positionToJson(after), epoch: lease.epoch },
      'projecting',
    );
    await project({
      projection,
      eventStore,
      readStore,
      logger,
      tuning,
      counters,
      rate,
      instance,
      blocked,
      after,
      collectionName: (collection) => collection,
      signal: stopping.signal,
      abandon: lease.lost,
      assertMayWrite: () => {
        if (!lease.valid()) throw new LeaseLostError(name);
      },
      commit: async (position: Position) => {
        if (!(await checkpoints.write(name, position, lease.epoch, now()))) throw new LeaseLostError(name);
        watch.advance(name, position);
      },
      runAfterFlush: true,
      now,
    });
  };

  const done = (async () => {
    let failures = 0;
    while (!stopping.signal.aborted) {
      const lease = await holdLease({
        leases,
        projection: name,
        owner: instance,
        ttlMs: leaseTtlMs,
        logger,
        signal: stopping.signal,
      });
      if (!lease) break;
      leading = true;
      const batchesBefore = counters.batches;
      let pause = 0;
      try {
        await session(lease);
      } catch (error) {
        if (!(error instanceof LeaseLostError)) {
          failures = counters.batches > batchesBefore ? 1 : failures + 1;
          counters.restarts++;
          // From twice the base, doubling, without jitter: only the lease holder restarts.
          pause = backoffDelayMs(failures, {
            baseMs: 2 * Math.max(MIN_RESTART_DELAY_MS, tuning.backoffMs),
            maxMs: MAX_RESTART_DELAY_MS,
            jitter: 'none',
          });
          logger.error(
            { err: error, retryInMs: pause },
            'projection failed; starting again from its checkpoint',
          );
        }
      } finally {
        leading = false;
        // Freed even after a failure: another instance may have better luck meanwhile.
        await lease.release();
      }
      if (pause > 0) await sleep(pause, stopping.signal);
    }
  })();

  return {
    name,
    leading: () => leading,

    async stats(): Promise<ProjectionStats> {
      const [checkpoint, head, parkedWaiting] = await Promise.all([
        checkpoints.read(name),
        eventStore.headPosition(),
        parked.count(name),
      ]);
      return {
        projection: name,
        leading,
        checkpoint: checkpoint === undefined ? null : positionToJson(checkpoint),
        head: head === undefined ? null : positionToJson(head),
        lag: await countLag(eventStore, checkpoint, head, options.lagCountLimit ?? 1000),
        eventsPerSecond: rate.perSecond(),
        parkedWaiting,
        ...counters,
      };
    },

    async stop() {
      stopping.abort();
      await done;
    },
  };
};

const countLag = async (
  eventStore: EventStore,
  checkpoint: Position | undefined,
  head: Position | undefined,
  limit: number,
): Promise<ProjectionStats['lag']> => {
  if (head === undefined || (checkpoint !== undefined && checkpoint >= head))
    return { events: 0, atLeast: false };
  const behind = await eventStore.readAll({ after: checkpoint, maxCount: limit });
  return { events: behind.length, atLeast: behind.length >= limit };
};
