import { deepStrictEqual } from 'node:assert/strict';
import { nextFor, type Workflow } from './workflow.js';

/**
 * Given/when/then for workflows, like `spec` for deciders:
 *
 *   workflowSpec(transferWorkflow).given([requested, accountsRead]).when(now).then(withdraw)
 *   workflowSpec(transferWorkflow).given([requested, completed]).when(now).thenNothing()
 *
 * `when` takes the time the process is woken at (milliseconds or an ISO string). Uses node:assert
 * so the domain layer depends on no test framework.
 */
export const workflowSpec = <Observation, State, Next>(workflow: Workflow<Observation, State, Next>) => ({
  given: (history: Observation[]) => ({
    when: (now: number | string) => {
      const run = () => nextFor(workflow, history, typeof now === 'string' ? Date.parse(now) : now);
      return {
        // biome-ignore lint/suspicious/noThenProperty: given/when/then is the point; the object is never awaited
        then: (expected: Next) => deepStrictEqual(run(), expected),
        thenNothing: () => deepStrictEqual(run(), undefined),
      };
    },
  }),
});
