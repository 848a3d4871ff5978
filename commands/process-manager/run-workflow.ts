import { foldWorkflow, type Workflow } from '../../domain/shared/workflow.js';

export type WorkflowIo<Observation, State, Next> = {
  /**
   * Reads what has happened, afresh: the process's own stream, and whatever else its decisions
   * depend on (other streams, the steps found there by their keys).
   */
  observe(): Promise<Observation[]>;
  /**
   * Does `next`. Returns what doing it showed (a step that landed, or that a rule refused) when
   * the next decision may follow from that without reading again; undefined to observe afresh.
   */
  act(next: Next, state: State): Promise<Observation[] | undefined>;
  /** Hears each state the workflow decides from (e.g. to learn the key's deadline). */
  onState?(state: State): void;
};

/**
 * One pass of a process manager over one key: observe, decide, act, and again, until the workflow
 * has nothing more to do now. The decisions are the workflow's (pure, tested given/when/then); this
 * is the loop that feeds them and carries them out. Throws when acting fails (the pass is retried
 * later), or when `maxSteps` actions did not settle it: then something else keeps changing what it
 * reads.
 */
export const runWorkflow = async <Observation, State, Next>(
  workflow: Workflow<Observation, State, Next>,
  io: WorkflowIo<Observation, State, Next>,
  { now, maxSteps = 20, what = 'workflow' }: { now: () => number; maxSteps?: number; what?: string },
): Promise<State> => {
  let observations = await io.observe();
  for (let step = 0; ; step++) {
    const state = foldWorkflow(workflow, observations);
    io.onState?.(state);
    const next = workflow.decide(state, now());
    if (next === undefined) return state;
    if (step >= maxSteps) throw new Error(`${what} did not settle in ${maxSteps} steps`);
    const seen = await io.act(next, state);
    observations = seen ? [...observations, ...seen] : await io.observe();
  }
};
