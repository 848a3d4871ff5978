import type { AggregateNames } from '../names.js';

/** domain/<plural>/<name>.ts: the zod commands and events, the decider and the Aggregate. */
export const domainModule = (n: AggregateNames) => `import { z } from 'zod';
import type { Aggregate, Decider } from '../shared/decider.js';
import { DomainError, type DomainErrorKind } from '../shared/domain-error.js';

/**
 * A ${n.words}: created with a name, renamed while active, archived for good. The example that
 * \`npm run new-aggregate\` writes; make it yours (docs/adding-an-aggregate.md).
 */
export const ${n.pascal}Id = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, '${n.idField} must be 1-64 letters, digits, "-" or "_"');
const Name = z.string().trim().min(1, 'name must not be blank').max(200);

// ── Commands ────────────────────────────────────────────────────────────────
export const Create${n.pascal} = z.object({
  type: z.literal('Create${n.pascal}'),
  ${n.idField}: ${n.pascal}Id,
  name: Name,
});
export const Rename${n.pascal} = z.object({
  type: z.literal('Rename${n.pascal}'),
  ${n.idField}: ${n.pascal}Id,
  name: Name,
});
export const Archive${n.pascal} = z.object({
  type: z.literal('Archive${n.pascal}'),
  ${n.idField}: ${n.pascal}Id,
});
export const ${n.pascal}Command = z.discriminatedUnion('type', [
  Create${n.pascal},
  Rename${n.pascal},
  Archive${n.pascal},
]);
export type ${n.pascal}Command = z.infer<typeof ${n.pascal}Command>;

// ── Events ──────────────────────────────────────────────────────────────────
// Event types are global in the store, so each carries the aggregate's name.
export const ${n.pascal}Created = z.object({
  type: z.literal('${n.pascal}Created'),
  data: z.object({ ${n.idField}: ${n.pascal}Id, name: Name }),
});
export const ${n.pascal}Renamed = z.object({
  type: z.literal('${n.pascal}Renamed'),
  data: z.object({ ${n.idField}: ${n.pascal}Id, name: Name }),
});
export const ${n.pascal}Archived = z.object({
  type: z.literal('${n.pascal}Archived'),
  data: z.object({ ${n.idField}: ${n.pascal}Id }),
});
export const ${n.pascal}Event = z.discriminatedUnion('type', [
  ${n.pascal}Created,
  ${n.pascal}Renamed,
  ${n.pascal}Archived,
]);
export type ${n.pascal}Event = z.infer<typeof ${n.pascal}Event>;
export const ${n.camel}EventTypes = ${n.pascal}Event.options.map((o) => o.shape.type.value);

// ── State ───────────────────────────────────────────────────────────────────
// Only what the rules need: the decider never shows state to anyone, the read model does.
export type ${n.pascal}State = { status: 'none' } | { status: 'active' | 'archived'; name: string };

export type ${n.pascal}ErrorCode =
  | '${n.snake}_not_found'
  | '${n.snake}_already_exists'
  | '${n.snake}_archived';

const reject = (code: ${n.pascal}ErrorCode, message: string, kind: DomainErrorKind = 'rejected') =>
  new DomainError(code, kind, message);

const requireActive = (state: ${n.pascal}State) => {
  if (state.status === 'none') throw reject('${n.snake}_not_found', '${n.words} does not exist', 'not_found');
  if (state.status === 'archived') throw reject('${n.snake}_archived', '${n.words} is archived');
  return state;
};

export const decide = (command: ${n.pascal}Command, state: ${n.pascal}State): ${n.pascal}Event[] => {
  switch (command.type) {
    case 'Create${n.pascal}': {
      if (state.status !== 'none')
        throw reject('${n.snake}_already_exists', '${n.words} already exists', 'conflict');
      const { ${n.idField}, name } = command;
      return [{ type: '${n.pascal}Created', data: { ${n.idField}, name } }];
    }
    case 'Rename${n.pascal}': {
      const current = requireActive(state);
      // Already so: nothing to record. The pipeline answers with the stream's current revision.
      if (command.name === current.name) return [];
      const { ${n.idField}, name } = command;
      return [{ type: '${n.pascal}Renamed', data: { ${n.idField}, name } }];
    }
    case 'Archive${n.pascal}': {
      requireActive(state);
      return [{ type: '${n.pascal}Archived', data: { ${n.idField}: command.${n.idField} } }];
    }
  }
};

export const evolve = (state: ${n.pascal}State, event: ${n.pascal}Event): ${n.pascal}State => {
  switch (event.type) {
    case '${n.pascal}Created':
      return { status: 'active', name: event.data.name };
    case '${n.pascal}Renamed':
      return state.status === 'none' ? state : { ...state, name: event.data.name };
    case '${n.pascal}Archived':
      return state.status === 'none' ? state : { ...state, status: 'archived' };
  }
};

export const ${n.camel}Decider: Decider<${n.pascal}Command, ${n.pascal}Event, ${n.pascal}State> = {
  initialState: { status: 'none' },
  decide,
  evolve,
};

export const ${n.camel}Aggregate: Aggregate<${n.pascal}Command, ${n.pascal}Event, ${n.pascal}State> = {
  // Streams are ${n.category}-<id>. No "-" in a category: EventStoreDB's $by_category splits at the first.
  category: '${n.category}',
  decider: ${n.camel}Decider,
  parseEvent: (event) => ${n.pascal}Event.parse(event),
};
`;

/** domain/<plural>/<name>.test.ts: the decider's rules as given/when/then. */
export const domainTest = (n: AggregateNames) => `import { describe, it } from 'vitest';
import { spec } from '../shared/decider-specification.js';
import { type ${n.pascal}Event, ${n.camel}Decider } from './${n.kebab}.js';

const given = spec(${n.camel}Decider).given;
const ${n.idField} = '${n.kebab}-1';
const created: ${n.pascal}Event = { type: '${n.pascal}Created', data: { ${n.idField}, name: 'First' } };
const renamed: ${n.pascal}Event = { type: '${n.pascal}Renamed', data: { ${n.idField}, name: 'Second' } };
const archived: ${n.pascal}Event = { type: '${n.pascal}Archived', data: { ${n.idField} } };

describe('${n.pascal} decider', () => {
  describe('Create${n.pascal}', () => {
    it('creates a ${n.words}', () =>
      given([]).when({ type: 'Create${n.pascal}', ${n.idField}, name: 'First' }).then([created]));

    it('rejects creating a ${n.words} twice', () =>
      given([created])
        .when({ type: 'Create${n.pascal}', ${n.idField}, name: 'Other' })
        .thenRejects('${n.snake}_already_exists'));
  });

  describe('Rename${n.pascal}', () => {
    it('renames an active ${n.words}', () =>
      given([created]).when({ type: 'Rename${n.pascal}', ${n.idField}, name: 'Second' }).then([renamed]));

    it('records nothing when the name is already that', () =>
      given([created, renamed]).when({ type: 'Rename${n.pascal}', ${n.idField}, name: 'Second' }).then([]));

    it('rejects renaming a ${n.words} that does not exist', () =>
      given([])
        .when({ type: 'Rename${n.pascal}', ${n.idField}, name: 'Second' })
        .thenRejects('${n.snake}_not_found'));

    it('rejects renaming an archived ${n.words}', () =>
      given([created, archived])
        .when({ type: 'Rename${n.pascal}', ${n.idField}, name: 'Second' })
        .thenRejects('${n.snake}_archived'));
  });

  describe('Archive${n.pascal}', () => {
    it('archives an active ${n.words}', () =>
      given([created, renamed]).when({ type: 'Archive${n.pascal}', ${n.idField} }).then([archived]));

    it('rejects archiving twice', () =>
      given([created, archived])
        .when({ type: 'Archive${n.pascal}', ${n.idField} })
        .thenRejects('${n.snake}_archived'));

    it('rejects archiving a ${n.words} that does not exist', () =>
      given([]).when({ type: 'Archive${n.pascal}', ${n.idField} }).thenRejects('${n.snake}_not_found'));
  });
});
`;
