import type { z } from 'zod';

/**
 * An aggregate's opt-in to snapshots (Aggregate.snapshot): every `every` events the command
 * pipeline stores the folded state, and a command on a stream no process holds in memory reads
 * that state and only the events after it, instead of the whole stream.
 *
 * A snapshot is used only if it was taken by the same fold: the pipeline stamps each one with a
 * version made of `version` and a hash of the state schema's JSON Schema and of `evolve`'s source
 * text (commands/pipeline/snapshot-version.ts), and ignores one with another stamp. So a changed
 * state schema, or an edit of `evolve` itself, retires old snapshots by itself; bump `version` when
 * the fold changes where neither shows it: a function `evolve` calls, an upcaster, how an event
 * parses. Forgetting costs wrong states, so when in doubt, bump it.
 */
export type SnapshotPolicy<State> = {
  /** Events between two snapshots (at least 1). About 100 keeps a cold command's read short. */
  readonly every: number;
  /** Bump it when the fold changes in a way the state schema and `evolve`'s own source do not show. */
  readonly version: number;
  /**
   * The state's schema: a stored state is parsed with it before it is used, and a state is stored
   * only if it comes back from JSON and this schema exactly as it was.
   */
  readonly schema: z.ZodType<State>;
};
