/**
 * A process manager's decisions as pure values (Emmett's workflows): what has happened, as a list
 * of observations (the process's own events, what it found in other streams, what its last action
 * just did), folds into a state; `decide` turns that state and the time into the next thing to do,
 * or undefined when there is nothing to do now. No I/O and no clock: the process-manager engine
 * (commands/process-manager/) reads, passes the time in, does what was decided, and asks again.
 */
export type Workflow<Observation, State, Next> = {
  readonly initialState: State;
  evolve(state: State, observation: Observation): State;
  /** `now`: milliseconds since the epoch. */
  decide(state: State, now: number): Next | undefined;
};

export const foldWorkflow = <Observation, State, Next>(
  workflow: Workflow<Observation, State, Next>,
  observations: Iterable<Observation>,
): State => {
  let state = workflow.initialState;
  for (const observation of observations) state = workflow.evolve(state, observation);
  return state;
};

/** What the workflow would do next, given everything that has happened and the time. */
export const nextFor = <Observation, State, Next>(
  workflow: Workflow<Observation, State, Next>,
  observations: Iterable<Observation>,
  now: number,
): Next | undefined => workflow.decide(foldWorkflow(workflow, observations), now);
