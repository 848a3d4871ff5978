/**
 * A decider is an aggregate written as three pure values: where a stream starts, what a command
 * decides given the current state, and how each event moves the state on. No I/O happens here, so
 * the rules can be tested as given/when/then without any infrastructure.
 */
export type Decider<Command, Event, State> = {
  readonly initialState: State;
  /** Returns the events that record the decision, or throws a DomainError when a rule forbids it. */
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
};

export const fold = <Command, Event, State>(
  decider: Decider<Command, Event, State>,
  events: Iterable<Event>,
  from: State = decider.initialState,
): State => {
  let state = from;
  for (const event of events) state = decider.evolve(state, event);
  return state;
};
