import { z } from 'zod';
import type { Aggregate, Decider } from '../shared/decider.js';
import { DomainError, type DomainErrorKind } from '../shared/domain-error.js';
import { eventVersions } from '../shared/event-versions.js';

// scaffold:note The template `npm run new-aggregate` copies (app/modules/sticky-notes.ts says more).
// scaffold:note Lines like these, marked `// scaffold:`, show it where the fields and commands it is
// scaffold:note given go; a copy leaves them out.
/** A sticky note: created with its fields, edited while active, archived for good. */
export const StickyNoteId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'stickyNoteId must be 1-64 letters, digits, "-" or "_"');

/** A time, in ISO 8601 UTC. Commands bring it from the route's clock: the domain reads no clock. */
const Instant = z.iso.datetime();

// scaffold:fields
/** What a sticky note holds: a create gives every field, an edit the ones it changes. */
export const StickyNoteFields = z.object({
  title: z.string().trim().min(1, 'title must not be blank').max(200),
  body: z.string().max(5_000),
});
export type StickyNoteFields = z.infer<typeof StickyNoteFields>;

// ── Commands ────────────────────────────────────────────────────────────────
export const CreateStickyNote = z.object({
  type: z.literal('CreateStickyNote'),
  stickyNoteId: StickyNoteId,
  ...StickyNoteFields.shape,
});
export const EditStickyNote = z.object({
  type: z.literal('EditStickyNote'),
  stickyNoteId: StickyNoteId,
  ...StickyNoteFields.partial().shape,
});
export const ArchiveStickyNote = z.object({
  type: z.literal('ArchiveStickyNote'),
  stickyNoteId: StickyNoteId,
  /** When: the route fills it in from its clock. */
  at: Instant,
});
// scaffold:commands
export const StickyNoteCommand = z.discriminatedUnion('type', [
  CreateStickyNote,
  EditStickyNote,
  ArchiveStickyNote,
  // scaffold:command-types
]);
export type StickyNoteCommand = z.infer<typeof StickyNoteCommand>;

// ── Events ──────────────────────────────────────────────────────────────────
// Event types are global in the store, so each carries the aggregate's name.
export const StickyNoteCreated = z.object({
  type: z.literal('StickyNoteCreated'),
  data: z.object({ stickyNoteId: StickyNoteId, ...StickyNoteFields.shape }),
});
/** Carries the fields the edit changed, and only those. */
export const StickyNoteEdited = z.object({
  type: z.literal('StickyNoteEdited'),
  data: z.object({ stickyNoteId: StickyNoteId, ...StickyNoteFields.partial().shape }),
});
export const StickyNoteArchived = z.object({
  type: z.literal('StickyNoteArchived'),
  data: z.object({ stickyNoteId: StickyNoteId, archivedAt: Instant }),
});
// scaffold:events
export const StickyNoteEvent = z.discriminatedUnion('type', [
  StickyNoteCreated,
  StickyNoteEdited,
  StickyNoteArchived,
  // scaffold:event-types
]);
export type StickyNoteEvent = z.infer<typeof StickyNoteEvent>;
export const stickyNoteEventTypes = StickyNoteEvent.options.map((o) => o.shape.type.value);
/**
 * How stored events are read back, and the version each type is written at. When an event's
 * shape changes, keep the old schema as a version and list its history here, so the events
 * already stored still read (docs/evolving-events.md).
 */
export const stickyNoteEvents = eventVersions(StickyNoteEvent, []);

// ── State ───────────────────────────────────────────────────────────────────
// Only what the rules need: the decider never shows state to anyone, the read model does.
export type StickyNoteState =
  | { status: 'none' }
  | { status: 'active' | 'archived'; fields: StickyNoteFields };

export type StickyNoteErrorCode =
  | 'sticky_note_not_found'
  | 'sticky_note_already_exists'
  | 'sticky_note_archived';

const reject = (code: StickyNoteErrorCode, message: string, kind: DomainErrorKind = 'rejected') =>
  new DomainError(code, kind, message);

const requireActive = (state: StickyNoteState) => {
  if (state.status === 'none')
    throw reject('sticky_note_not_found', 'sticky note does not exist', 'not_found');
  if (state.status === 'archived') throw reject('sticky_note_archived', 'sticky note is archived');
  return state;
};

/** The fields an edit gives a new value: what it records. */
const changedFields = (fields: StickyNoteFields, edits: Partial<StickyNoteFields>) =>
  Object.fromEntries(
    Object.entries(edits).filter(
      ([name, value]) => value !== undefined && value !== fields[name as keyof StickyNoteFields],
    ),
  ) as Partial<StickyNoteFields>;

export const decide = (command: StickyNoteCommand, state: StickyNoteState): StickyNoteEvent[] => {
  switch (command.type) {
    case 'CreateStickyNote': {
      if (state.status !== 'none')
        throw reject('sticky_note_already_exists', 'sticky note already exists', 'conflict');
      const { type: _, ...data } = command;
      return [{ type: 'StickyNoteCreated', data }];
    }
    case 'EditStickyNote': {
      const { fields } = requireActive(state);
      const { type: _, stickyNoteId, ...edits } = command;
      const changed = changedFields(fields, edits);
      // Nothing changes: nothing to record. The pipeline answers with the stream's current revision.
      if (Object.keys(changed).length === 0) return [];
      return [{ type: 'StickyNoteEdited', data: { stickyNoteId, ...changed } }];
    }
    case 'ArchiveStickyNote': {
      requireActive(state);
      // The time came with the command, so the same command always decides the same events.
      const { stickyNoteId, at } = command;
      return [{ type: 'StickyNoteArchived', data: { stickyNoteId, archivedAt: at } }];
    }
    // scaffold:decide
  }
};

export const evolve = (state: StickyNoteState, event: StickyNoteEvent): StickyNoteState => {
  switch (event.type) {
    case 'StickyNoteCreated': {
      const { stickyNoteId: _, ...fields } = event.data;
      return { status: 'active', fields };
    }
    case 'StickyNoteEdited': {
      const { stickyNoteId: _, ...changed } = event.data;
      return state.status === 'none' ? state : { ...state, fields: { ...state.fields, ...changed } };
    }
    case 'StickyNoteArchived':
      return state.status === 'none' ? state : { ...state, status: 'archived' };
    // scaffold:evolve
  }
};

export const stickyNoteDecider: Decider<StickyNoteCommand, StickyNoteEvent, StickyNoteState> = {
  initialState: { status: 'none' },
  decide,
  evolve,
};

export const stickyNoteAggregate: Aggregate<StickyNoteCommand, StickyNoteEvent, StickyNoteState> = {
  // Streams are stickyNote-<id>. No "-" in a category: EventStoreDB's $by_category splits at the first.
  category: 'stickyNote',
  decider: stickyNoteDecider,
  ...stickyNoteEvents,
};
