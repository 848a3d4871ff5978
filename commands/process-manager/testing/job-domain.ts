import { z } from 'zod';
import type { Aggregate } from '../../../domain/shared/decider.js';
import { DomainError } from '../../../domain/shared/domain-error.js';
import type { Workflow } from '../../../domain/shared/workflow.js';

/**
 * The engine's own fixture domain, so its tests need no example: a job adds an amount to a tally
 * exactly once, by its deadline.
 *
 * - `tally-<id>`: a counter the job's effect lands in. Adding to a closed tally is refused.
 * - `job-<id>`: the process's own stream: started, then finished or failed.
 * - the job workflow: started → add to the tally (step key `job:<id>:add`) → finished; a refused
 *   add fails the job with the rule's code; a job whose deadline passes before the add landed
 *   fails with `deadline_exceeded`.
 */

// ── Tally ───────────────────────────────────────────────────────────────────
export type TallyCommand =
  | { type: 'Add'; tallyId: string; amount: number; jobId?: string }
  | { type: 'CloseTally'; tallyId: string };
export const TallyEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('Added'),
    data: z.object({
      tallyId: z.string(),
      amount: z.number(),
      total: z.number(),
      jobId: z.string().optional(),
    }),
  }),
  z.object({ type: z.literal('TallyClosed'), data: z.object({ tallyId: z.string() }) }),
]);
export type TallyEvent = z.infer<typeof TallyEvent>;
export type TallyState = { total: number; closed: boolean };

export const tallyAggregate: Aggregate<TallyCommand, TallyEvent, TallyState> = {
  category: 'tally',
  decider: {
    initialState: { total: 0, closed: false },
    decide: (command, state) => {
      if (state.closed) throw new DomainError('tally_closed', 'rejected', 'the tally is closed');
      if (command.type === 'CloseTally') return [{ type: 'TallyClosed', data: { tallyId: command.tallyId } }];
      const { tallyId, amount, jobId } = command;
      return [{ type: 'Added', data: { tallyId, amount, total: state.total + amount, jobId } }];
    },
    evolve: (state, event) =>
      event.type === 'Added' ? { ...state, total: event.data.total } : { ...state, closed: true },
  },
  parseEvent: (event) => TallyEvent.parse(event),
};

// ── Job ─────────────────────────────────────────────────────────────────────
export type JobCommand =
  | { type: 'StartJob'; jobId: string; tallyId: string; amount: number; deadline: string }
  | { type: 'FinishJob'; jobId: string }
  | { type: 'FailJob'; jobId: string; reason: string };
export const JobEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('JobStarted'),
    data: z.object({ jobId: z.string(), tallyId: z.string(), amount: z.number(), deadline: z.string() }),
  }),
  z.object({ type: z.literal('JobFinished'), data: z.object({ jobId: z.string() }) }),
  z.object({ type: z.literal('JobFailed'), data: z.object({ jobId: z.string(), reason: z.string() }) }),
]);
export type JobEvent = z.infer<typeof JobEvent>;
export const jobEventTypes = JobEvent.options.map((o) => o.shape.type.value);
export const jobOutcomeTypes = ['JobFinished', 'JobFailed'] as const;
export type JobState =
  | { status: 'none' }
  | {
      status: 'started' | 'finished' | 'failed';
      jobId: string;
      tallyId: string;
      amount: number;
      deadline: string;
      reason?: string;
    };

const evolveJob = (state: JobState, event: JobEvent): JobState => {
  if (event.type === 'JobStarted') return { status: 'started', ...event.data };
  if (state.status === 'none') return state;
  return event.type === 'JobFinished'
    ? { ...state, status: 'finished' }
    : { ...state, status: 'failed', reason: event.data.reason };
};

export const jobAggregate: Aggregate<JobCommand, JobEvent, JobState> = {
  category: 'job',
  decider: {
    initialState: { status: 'none' },
    decide: (command, state) => {
      if (command.type === 'StartJob') {
        if (state.status !== 'none') throw new DomainError('job_exists', 'conflict', 'job already exists');
        const { type: _, ...data } = command;
        return [{ type: 'JobStarted', data }];
      }
      if (state.status === 'none') throw new DomainError('job_not_found', 'not_found', 'no such job');
      if (state.status !== 'started') return []; // a repeat decides nothing
      return command.type === 'FinishJob'
        ? [{ type: 'JobFinished', data: { jobId: command.jobId } }]
        : [{ type: 'JobFailed', data: { jobId: command.jobId, reason: command.reason } }];
    },
    evolve: evolveJob,
  },
  parseEvent: (event) => JobEvent.parse(event),
};

// ── The job workflow ────────────────────────────────────────────────────────
export type JobObservation =
  | JobEvent
  /** The add's event is in the tally, found by its step key. */
  | { type: 'AddFound' }
  /** The process ran the add just now: it landed, or a rule refused it. */
  | { type: 'AddRan'; refused?: string };
export type JobProcessState = { job: JobState; added: boolean; refused?: string };
export type JobNext =
  | { type: 'Add'; command: TallyCommand & { type: 'Add' } }
  | { type: 'Record'; command: JobCommand };

export const jobWorkflow: Workflow<JobObservation, JobProcessState, JobNext> = {
  initialState: { job: { status: 'none' }, added: false },
  evolve: (state, observation) => {
    switch (observation.type) {
      case 'AddFound':
        return { ...state, added: true };
      case 'AddRan':
        return observation.refused === undefined
          ? { ...state, added: true }
          : { ...state, refused: observation.refused };
      default:
        return { ...state, job: evolveJob(state.job, observation) };
    }
  },
  decide: ({ job, added, refused }, now) => {
    if (job.status !== 'started') return undefined;
    const { jobId, tallyId, amount } = job;
    if (added) return { type: 'Record', command: { type: 'FinishJob', jobId } };
    if (refused !== undefined)
      return { type: 'Record', command: { type: 'FailJob', jobId, reason: refused } };
    if (now >= Date.parse(job.deadline))
      return { type: 'Record', command: { type: 'FailJob', jobId, reason: 'deadline_exceeded' } };
    return { type: 'Add', command: { type: 'Add', tallyId, amount, jobId } };
  },
};
