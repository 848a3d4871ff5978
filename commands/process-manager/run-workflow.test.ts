import { describe, expect, it } from 'vitest';
import { runWorkflow } from './run-workflow.js';
import { type JobNext, type JobObservation, jobWorkflow } from './testing/job-domain.js';

const started: JobObservation = {
  type: 'JobStarted',
  data: { jobId: 'j1', tallyId: 'x', amount: 5, deadline: '2030-01-01T00:00:00.000Z' },
};
const now = () => Date.parse('2029-01-01T00:00:00.000Z');

describe('runWorkflow', () => {
  it('observes, decides, acts, and again, until the workflow has nothing to do', async () => {
    let stream: JobObservation[] = [started];
    const acted: JobNext[] = [];
    const state = await runWorkflow(
      jobWorkflow,
      {
        observe: async () => stream,
        act: async (next) => {
          acted.push(next);
          // What an action showed comes back without reading; a record is read back.
          if (next.type === 'Add') return [{ type: 'AddRan' }];
          stream = [...stream, { type: 'JobFinished', data: { jobId: 'j1' } }];
          return undefined;
        },
      },
      { now },
    );
    expect(acted.map((n) => n.command.type)).toEqual(['Add', 'FinishJob']);
    expect(state.job.status).toBe('finished');
  });

  it('gives up after maxSteps actions that settle nothing, naming what it ran', async () => {
    await expect(
      runWorkflow(
        jobWorkflow,
        { observe: async () => [started], act: async () => undefined },
        { now, maxSteps: 3, what: 'job j1' },
      ),
    ).rejects.toThrow('job j1 did not settle in 3 steps');
  });

  it('lets an action failure through, for the engine to retry', async () => {
    await expect(
      runWorkflow(
        jobWorkflow,
        {
          observe: async () => [started],
          act: async () => {
            throw new Error('store away');
          },
        },
        { now },
      ),
    ).rejects.toThrow('store away');
  });
});
