import type { Config } from '../infra/config.js';
import type { EventStore } from '../infra/event-store/event-store.js';
import type { ReadStore } from '../infra/read-store/read-store.js';
import { checkpointStore } from './engine/checkpoint-store.js';
import {
  type CheckpointListener,
  createCheckpointWatch,
  type WaitForCheckpoint,
} from './engine/checkpoint-watch.js';
import type { Logger } from './engine/logger.js';
import type { Tuning } from './engine/project.js';
import type { Projection } from './engine/projection.js';
import { type ProjectionStats, startProjector } from './engine/projector.js';
import { skippableFor } from './engine/skippable.js';

export type ProjectionsConfig = Pick<
  Config,
  | 'PROJECTION_BATCH_SIZE'
  | 'PROJECTION_FLUSH_INTERVAL_MS'
  | 'PROJECTION_FLUSH'
  | 'PROJECTION_LEASE_TTL_MS'
  | 'PROJECTION_MAX_ATTEMPTS'
  | 'PROJECTION_RETRY_BACKOFF_MS'
  | 'PROJECTION_CACHE_TIMEOUT_MS'
>;

export const tuningFrom = (config: ProjectionsConfig): Tuning => ({
  batchSize: config.PROJECTION_BATCH_SIZE,
  flushIntervalMs: config.PROJECTION_FLUSH_INTERVAL_MS,
  flush: config.PROJECTION_FLUSH,
  maxAttempts: config.PROJECTION_MAX_ATTEMPTS,
  backoffMs: config.PROJECTION_RETRY_BACKOFF_MS,
  afterFlushTimeoutMs: config.PROJECTION_CACHE_TIMEOUT_MS,
});

export type StartProjectionsOptions = {
  eventStore: EventStore;
  /**
   * Where read models, checkpoints, leases and parked events live. On MongoDB, give the projectors
   * a store that reads from the primary: after a batch they read back what they wrote.
   */
  readStore: ReadStore;
  logger: Logger;
  config: ProjectionsConfig;
  /** Every module's projections (projectionsOf in app/module.ts), or those a test needs. */
  projections: readonly Projection[];
};

export type Projections = {
  /** Writes every pending batch, commits the checkpoints and frees the leases. */
  stop(): Promise<void>;
  /** One entry per projection, for logs and metrics. */
  stats(): Promise<ProjectionStats[]>;
  /**
   * Read your writes: resolves true once the projection has processed `position`, false on timeout
   * or abort. Answers from this process's projectors at once; while another instance holds a
   * projection's lease, it polls the stored checkpoint.
   */
  waitForCheckpoint: WaitForCheckpoint;
  /** Every checkpoint advance seen in this process; returns the function that unsubscribes. */
  onCheckpoint(listener: CheckpointListener): () => void;
};

/**
 * Starts a projector per projection. Each waits for its lease, so every app instance can call this:
 * one projects, the others stand by and take over when it stops or dies.
 */
export const startProjections = ({
  eventStore,
  readStore,
  logger,
  config,
  projections,
}: StartProjectionsOptions): Projections => {
  const names = projections.map((projection) => projection.name);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) throw new Error(`two projections are named ${repeated}`);
  const checkpoints = checkpointStore(readStore);
  const leading = new Map<string, () => boolean>();
  const watch = createCheckpointWatch({
    poll: { read: checkpoints.read, when: (projection) => !leading.get(projection)?.() },
    skippable: skippableFor(eventStore, projections),
    onError: (error) => logger.warn({ err: error }, 'checkpoint watch: a poll or a listener failed'),
  });
  const projectors = projections.map((projection) =>
    startProjector({
      projection,
      eventStore,
      readStore,
      logger,
      tuning: tuningFrom(config),
      leaseTtlMs: config.PROJECTION_LEASE_TTL_MS,
      watch,
    }),
  );
  for (const projector of projectors) leading.set(projector.name, projector.leading);

  return {
    async stop() {
      await Promise.all(projectors.map((projector) => projector.stop()));
    },
    stats: () => Promise.all(projectors.map((projector) => projector.stats())),
    waitForCheckpoint: watch.waitFor,
    onCheckpoint: watch.onAdvance,
  };
};
