import type { StoredEvent } from './event-versions.js';
import type { SnapshotPolicy } from './snapshot-policy.js';

/**
 * A decider is an aggregate written as three pure values: where a stream starts, what a command
 * decides given the current state, and how each event moves the state on. No I/O happens here, so
 * the rules can be tested as given/when/then without any infrastructure.
 *
 * Neither `decide` nor `evolve` may change the state it is given: `evolve` returns a new state
 * (sharing what did not change). The command pipeline keeps states between commands and hands the
 * same one to many decisions; it freezes them, so a decider that changes one throws instead of
 * corrupting what the next command decides on.
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

/**
 * What the command pipeline needs to know about an aggregate besides its rules: how to name its
 * streams and how to read its events back from the store (the zod schema is the one place an
 * event's shape is defined). `eventVersions` (event-versions.ts) gives both `parseEvent` and
 * `eventVersion`, so that what is written and how it is read back cannot disagree.
 */
export type Aggregate<Command, Event extends { type: string; data: unknown }, State> = {
  /** The stream category, e.g. `account` for streams `account-<id>`. */
  readonly category: string;
  readonly decider: Decider<Command, Event, State>;
  /** A stored event in its current shape (upcast from an older version); throws if it is not one. */
  readonly parseEvent: (event: StoredEvent) => Event;
  /** The schema version the pipeline stamps on an event of `type`; absent: 1 for every type. */
  readonly eventVersion?: (type: string) => number;
  /** Absent: no snapshots, a cold stream is read whole. See SnapshotPolicy. */
  readonly snapshot?: SnapshotPolicy<State>;
};

export const streamIdFor = (aggregate: { category: string }, id: string): string =>
  `${aggregate.category}-${id}`;

/** The state a stream's recorded events leave the aggregate in: each parsed, then folded. */
export const stateFrom = <Command, Event extends { type: string; data: unknown }, State>(
  aggregate: Aggregate<Command, Event, State>,
  events: readonly StoredEvent[],
): State =>
  fold(
    aggregate.decider,
    events.map((event) => aggregate.parseEvent(event)),
  );
