import { createCommandHandler } from '../../../commands/pipeline/handle-command.js';
import { counterAggregate } from '../../../domain/shared/testing/counter.js';
import type { EventStore } from '../../../infra/event-store/event-store.js';
import { createLogger } from '../../../infra/logger.js';
import type { ReadStore } from '../../../infra/read-store/read-store.js';
import { type CheckpointWatch, createCheckpointWatch } from '../checkpoint-watch.js';
import type { Tuning } from '../project.js';
import type { Projection } from '../projection.js';
import { type ProjectorOptions, startProjector } from '../projector.js';

export const silentLogger = createLogger({ level: 'silent' });

/** Small batches and short pauses, so tests exercise many batches and retries quickly. */
export const testTuning: Tuning = {
  batchSize: 20,
  flushIntervalMs: 5,
  maxAttempts: 3,
  backoffMs: 1,
  afterFlushTimeoutMs: 1_000,
};

export const TEST_LEASE_TTL_MS = 300;

export const startTestProjector = (
  options: Pick<ProjectorOptions, 'projection' | 'eventStore' | 'readStore'> & Partial<ProjectorOptions>,
) => {
  const watch: CheckpointWatch = options.watch ?? createCheckpointWatch();
  const projector = startProjector({
    logger: silentLogger,
    tuning: testTuning,
    leaseTtlMs: TEST_LEASE_TTL_MS,
    watch,
    ...options,
  });
  return Object.assign(projector, {
    watch,
    /** Resolves once the projection has processed everything in the log now. */
    async caughtUp(timeoutMs = 10_000) {
      const head = await options.eventStore.headPosition();
      if (head === undefined) return;
      if (!(await watch.waitFor(projector.name, head, { timeoutMs })))
        throw new Error(`${projector.name} did not reach ${head} within ${timeoutMs} ms`);
    },
  });
};

/** Fixture counter commands through the real command pipeline: events as the app appends them. */
export const counterCommands = (eventStore: EventStore) => {
  const handle = createCommandHandler({ eventStore, maxRetries: 20, backoffMs: 1 });
  const context = { correlationId: 'test', causationId: 'test' };
  return {
    open: (counterId: string, owner = 'Ada') =>
      handle(counterAggregate, counterId, { type: 'OpenCounter', counterId, owner }, context),
    increment: (counterId: string, amount: number, note?: string) =>
      handle(counterAggregate, counterId, { type: 'Increment', counterId, amount, note }, context),
    decrement: (counterId: string, amount: number, note?: string) =>
      handle(counterAggregate, counterId, { type: 'Decrement', counterId, amount, note }, context),
    close: (counterId: string) =>
      handle(counterAggregate, counterId, { type: 'CloseCounter', counterId }, context),
  };
};

/** A projection whose handler throws for the events `breaks` picks, until `fixed` is set. */
export const fragile = (
  projection: Projection,
  breaks: (event: Parameters<Projection['handle']>[0]) => boolean,
) => {
  const state = { fixed: false, calls: 0 };
  const wrapped: Projection = {
    ...projection,
    handle(event) {
      state.calls++;
      if (!state.fixed && breaks(event)) throw new Error(`cannot handle ${event.type} at ${event.position}`);
      return projection.handle(event);
    },
  };
  return Object.assign(state, { projection: wrapped });
};

/** Every document of a collection, in _id order. */
export const allDocs = (readStore: ReadStore, collection: string) =>
  readStore.collection(collection).find({}, { sort: { _id: 1 } });

/** A projection that records the position of every event its handler is given. */
export const counting = (projection: Projection) => {
  const seen: bigint[] = [];
  const wrapped: Projection = {
    ...projection,
    handle(event) {
      seen.push(event.position);
      return projection.handle(event);
    },
  };
  return { projection: wrapped, seen };
};
