import { describe, it } from 'vitest';
import { workflowSpec } from '../../../domain/shared/workflow-specification.js';
import { type JobObservation, jobWorkflow } from './job-domain.js';

/** The fixture's decisions, given/when/then: how a process manager's workflow is tested. */
const given = workflowSpec(jobWorkflow).given;
const deadline = '2030-01-01T00:00:00.000Z';
const started: JobObservation = {
  type: 'JobStarted',
  data: { jobId: 'j1', tallyId: 'x', amount: 5, deadline },
};
const before = '2029-12-31T00:00:00.000Z';

describe('job workflow (the engine fixture)', () => {
  it('adds to the tally first', () =>
    given([started])
      .when(before)
      .then({ type: 'Add', command: { type: 'Add', tallyId: 'x', amount: 5, jobId: 'j1' } }));

  it('finishes once the add is found, even past the deadline', () =>
    given([started, { type: 'AddFound' }])
      .when(deadline)
      .then({ type: 'Record', command: { type: 'FinishJob', jobId: 'j1' } }));

  it('fails with the rule that refused the add', () =>
    given([started, { type: 'AddRan', refused: 'tally_closed' }])
      .when(before)
      .then({ type: 'Record', command: { type: 'FailJob', jobId: 'j1', reason: 'tally_closed' } }));

  it('fails once the deadline passed with no add found', () =>
    given([started])
      .when(deadline)
      .then({ type: 'Record', command: { type: 'FailJob', jobId: 'j1', reason: 'deadline_exceeded' } }));

  it('does nothing for a job that ended, or that does not exist', () => {
    given([started, { type: 'JobFinished', data: { jobId: 'j1' } }])
      .when(before)
      .thenNothing();
    given([]).when(before).thenNothing();
  });
});
