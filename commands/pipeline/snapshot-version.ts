import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SnapshotPolicy } from '../../domain/shared/snapshot-policy.js';

/** Bumped when what the pipeline stores in a snapshot changes shape (snapshots.ts). */
const PAYLOAD_VERSION = 1;

/** Per policy, per decider: computed once (a JSON Schema and a hash), then looked up per command. */
const versions = new WeakMap<object, WeakMap<object, string>>();

/**
 * The stamp on an aggregate's snapshots: `<payload>.<policy version>.<hash>`, the hash over the
 * state schema's JSON Schema and `evolve`'s source text. Both parts are derived so that the common
 * changes retire old snapshots without anyone remembering to: a new or changed state field, an edit
 * of `evolve`. What they cannot see (a helper `evolve` calls, an upcaster, a changed event schema)
 * needs the policy's manual `version`. A reformatted `evolve` or a new esbuild also changes the
 * source text: old snapshots are then ignored once, which costs one whole read per stream.
 */
export const snapshotVersion = <State>(
  aggregate: { readonly decider: { readonly evolve: unknown } },
  policy: SnapshotPolicy<State>,
): string => {
  const byDecider = versions.get(policy) ?? new WeakMap<object, string>();
  versions.set(policy, byDecider);
  const known = byDecider.get(aggregate.decider);
  if (known !== undefined) return known;
  const jsonSchema = JSON.stringify(z.toJSONSchema(policy.schema, { unrepresentable: 'any' }));
  const digest = createHash('sha256')
    .update(jsonSchema)
    .update('\0')
    .update(String(aggregate.decider.evolve))
    .digest('hex')
    .slice(0, 16);
  const version = `${PAYLOAD_VERSION}.${policy.version}.${digest}`;
  byDecider.set(aggregate.decider, version);
  return version;
};
