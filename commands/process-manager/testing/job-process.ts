import { stateFrom, streamIdFor } from '../../../domain/shared/decider.js';
import { isDomainError } from '../../../domain/shared/domain-error.js';
import type { EventStore } from '../../../infra/event-store/event-store.js';
import type { Logger } from '../../../infra/logger.js';
import type { CommandHandler } from '../../pipeline/handle-command.js';
import type { ProcessDefinition } from '../process-manager.js';
import { runWorkflow } from '../run-workflow.js';
import { findStep, runStep, stepKey } from '../step-keys.js';
import {
  type JobObservation,
  jobAggregate,
  jobEventTypes,
  jobWorkflow,
  tallyAggregate,
} from './job-domain.js';

const JOB_PREFIX = `${jobAggregate.category}-`;

export const addKey = (jobId: string) => stepKey('job', jobId, 'add');

/**
 * The fixture's process manager on the engine: the glue between the job workflow (pure) and the
 * streams. What another process manager looks like, at its smallest.
 */
export const jobProcess = ({
  eventStore,
  handle,
  logger,
  now,
  name = 'job-process',
}: {
  eventStore: EventStore;
  handle: CommandHandler;
  logger: Logger;
  now: () => number;
  name?: string;
}): ProcessDefinition => ({
  name,
  filter: { streamPrefixes: [JOB_PREFIX], eventTypes: jobEventTypes },
  keyOf: (event) => event.streamId.slice(JOB_PREFIX.length),

  async advance(jobId, context) {
    let correlationId = '';
    let causationId = '';
    let addEventId: string | undefined;

    const observe = async (): Promise<JobObservation[]> => {
      const events = await eventStore.readStream(streamIdFor(jobAggregate, jobId));
      const first = events[0];
      const last = events.at(-1);
      if (!first || !last) return [];
      correlationId = first.metadata.correlationId;
      causationId = last.metadata.eventId;
      context.setLogFields({ correlationId, jobId });
      const job = stateFrom(jobAggregate, events);
      const observations: JobObservation[] = events.map((e) => jobAggregate.parseEvent(e));
      if (job.status !== 'started') return observations;
      const tally = await eventStore.readStream(streamIdFor(tallyAggregate, job.tallyId));
      const added = findStep(tally, addKey(jobId));
      addEventId = added?.metadata.eventId;
      if (added) observations.push({ type: 'AddFound' });
      return observations;
    };

    await runWorkflow(
      jobWorkflow,
      {
        observe,
        async act(next) {
          if (next.type === 'Add') {
            const outcome = await runStep(
              { handle, eventStore },
              tallyAggregate,
              next.command.tallyId,
              next.command,
              {
                key: addKey(jobId),
                correlationId,
                causationId,
              },
            );
            if ('refused' in outcome) return [{ type: 'AddRan', refused: outcome.refused }];
            addEventId = outcome.event.metadata.eventId;
            return [{ type: 'AddRan' }];
          }
          try {
            const cause = next.command.type === 'FinishJob' ? (addEventId ?? causationId) : causationId;
            await handle(jobAggregate, jobId, next.command, { correlationId, causationId: cause });
          } catch (error) {
            if (!isDomainError(error)) throw error;
            logger.warn({ err: error, jobId }, 'job step refused; reading the job again');
          }
          return undefined;
        },
        onState: ({ job }) => {
          if (job.status !== 'none') context.setDeadline(Date.parse(job.deadline));
        },
      },
      { now, what: `job ${jobId}` },
    );
  },
});
