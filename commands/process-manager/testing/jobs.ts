import { stateFrom, streamIdFor } from '../../../domain/shared/decider.js';
import type { EventStore } from '../../../infra/event-store/event-store.js';
import { createLogger } from '../../../infra/logger.js';
import { createCommandHandler } from '../../pipeline/handle-command.js';
import { createOutcomeWaiter } from '../outcomes.js';
import { type ProcessManagerDeps, startProcessManager } from '../process-manager.js';
import { jobAggregate, jobOutcomeTypes, tallyAggregate } from './job-domain.js';
import { jobProcess } from './job-process.js';

export const silent = createLogger({ level: 'silent' });

/** Fast retries and checkpoints, for tests. */
export const fast = { retryBackoffMs: 2, retryMaxMs: 20, checkpointIntervalMs: 10 };

/**
 * Jobs and tallies over a store, written and read through the real pipeline: what the engine's
 * tests set up and then check.
 */
export const jobs = (eventStore: EventStore) => {
  const handle = createCommandHandler({ eventStore, maxRetries: 20, backoffMs: 1 });
  const outcomes = createOutcomeWaiter({
    eventStore,
    logger: silent,
    outcomeTypes: jobOutcomeTypes,
    streamPrefixes: [`${jobAggregate.category}-`],
    retryMs: 10,
  });
  const jobEvents = (jobId: string) => eventStore.readStream(streamIdFor(jobAggregate, jobId));
  const tallyEvents = (tallyId: string) => eventStore.readStream(streamIdFor(tallyAggregate, tallyId));

  return {
    handle,
    outcomes,
    jobEvents,
    tallyEvents,

    start(
      jobId: string,
      tallyId: string,
      amount: number,
      { deadline = new Date(Date.now() + 60_000), correlationId = `corr-${jobId}` } = {},
    ) {
      const command = { type: 'StartJob' as const, jobId, tallyId, amount, deadline: deadline.toISOString() };
      return handle(jobAggregate, jobId, command, { correlationId, causationId: correlationId });
    },

    closeTally: (tallyId: string) =>
      handle(
        tallyAggregate,
        tallyId,
        { type: 'CloseTally', tallyId },
        { correlationId: 'setup', causationId: 'setup' },
      ),

    /** Something for the process to scan past: an event of no interest to it. */
    unrelated: (tallyId: string) =>
      handle(
        tallyAggregate,
        tallyId,
        { type: 'Add', tallyId, amount: 1 },
        { correlationId: 'setup', causationId: 'setup' },
      ),

    async total(tallyId: string) {
      return stateFrom(tallyAggregate, await tallyEvents(tallyId)).total;
    },

    async job(jobId: string) {
      return stateFrom(jobAggregate, await jobEvents(jobId));
    },

    /** Resolves with the job's final state, or throws after `timeoutMs`. */
    async settled(jobId: string, timeoutMs = 10_000) {
      const outcome = await outcomes.wait(streamIdFor(jobAggregate, jobId), { timeoutMs });
      const state = stateFrom(jobAggregate, await jobEvents(jobId));
      if (!outcome || (state.status !== 'finished' && state.status !== 'failed'))
        throw new Error(`job ${jobId} did not settle within ${timeoutMs} ms`);
      return state;
    },

    /** Starts the job process manager over `store` (a faulty or severable handle in some tests). */
    process(
      store: EventStore = eventStore,
      {
        name,
        now = Date.now,
        ...deps
      }: Omit<ProcessManagerDeps, 'eventStore' | 'logger'> & { name?: string } = {},
    ) {
      return startProcessManager(
        jobProcess({
          eventStore: store,
          handle: createCommandHandler({ eventStore: store, maxRetries: 20, backoffMs: 1 }),
          logger: silent,
          now,
          ...(name !== undefined && { name }),
        }),
        { eventStore: store, logger: silent, now, ...deps, config: { ...fast, ...deps.config } },
      );
    },
  };
};
