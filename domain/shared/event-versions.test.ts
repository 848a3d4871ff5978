import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  eventHistory,
  eventVersions,
  InvalidEventError,
  type StoredEvent,
  UnknownEventVersionError,
} from './event-versions.js';

// A fixture of the engine's own: `Noted` went through three shapes (tags added, then text renamed
// to body); `Erased` never changed.
const NotedV1 = z.object({
  type: z.literal('Noted'),
  data: z.object({ noteId: z.string().min(1), text: z.string() }),
});
const NotedV2 = z.object({
  type: z.literal('Noted'),
  data: z.object({ noteId: z.string().min(1), text: z.string(), tags: z.array(z.string()) }),
});
const Noted = z.object({
  type: z.literal('Noted'),
  data: z.object({ noteId: z.string().min(1), body: z.string().min(1), tags: z.array(z.string()) }),
});
const Erased = z.object({ type: z.literal('Erased'), data: z.object({ noteId: z.string().min(1) }) });
const NoteEvent = z.discriminatedUnion('type', [Noted, Erased]);

const notedHistory = eventHistory(NotedV1)
  .to(NotedV2, (v1) => ({ ...v1, tags: [] }))
  // An empty text was allowed once; a body may not be empty.
  .to(Noted, ({ text, ...v2 }) => ({ ...v2, body: text || '(empty)' }));
const noteEvents = eventVersions(NoteEvent, [notedHistory]);

const stored = (type: string, data: unknown, schemaVersion: unknown): StoredEvent => ({
  type,
  data,
  metadata: { schemaVersion },
  streamId: 'note-n1',
  revision: 4,
});

describe('event versions', () => {
  describe('the version written', () => {
    it('is one more than the older versions of the type', () => {
      expect(noteEvents.eventVersion('Noted')).toBe(3);
      expect(noteEvents.eventVersion('Erased')).toBe(1);
    });

    it('is 1 for a type without history, and for any type when there is none', () => {
      expect(eventVersions(NoteEvent).eventVersion('Noted')).toBe(1);
      expect(noteEvents.eventVersion('NeverHeardOf')).toBe(1);
    });
  });

  describe('reading', () => {
    it('upcasts version 1 step by step to the current shape', () =>
      expect(noteEvents.parseEvent(stored('Noted', { noteId: 'n1', text: 'hello' }, 1))).toEqual({
        type: 'Noted',
        data: { noteId: 'n1', body: 'hello', tags: [] },
      }));

    it('upcasts version 2 from where it is, keeping what it has', () =>
      expect(noteEvents.parseEvent(stored('Noted', { noteId: 'n1', text: '', tags: ['x'] }, 2))).toEqual({
        type: 'Noted',
        data: { noteId: 'n1', body: '(empty)', tags: ['x'] },
      }));

    it('reads the current version as it is, and a type that never changed at version 1', () => {
      const current = { noteId: 'n1', body: 'b', tags: [] };
      expect(noteEvents.parseEvent(stored('Noted', current, 3)).data).toEqual(current);
      expect(noteEvents.parseEvent(stored('Erased', { noteId: 'n1' }, 1)).data).toEqual({ noteId: 'n1' });
    });

    it('reads an event without metadata (one just decided) as the current version', () =>
      expect(noteEvents.parseEvent({ type: 'Noted', data: { noteId: 'n1', body: 'b', tags: [] } })).toEqual({
        type: 'Noted',
        data: { noteId: 'n1', body: 'b', tags: [] },
      }));

    it('never changes the stored event it reads', () => {
      const event = stored('Noted', { noteId: 'n1', text: 'hello' }, 1);
      const copy = structuredClone(event);
      noteEvents.parseEvent(event);
      expect(event).toEqual(copy);
    });
  });

  describe('refusing', () => {
    it('a version newer than the code knows: a clear error naming the event and the versions it reads', () => {
      const read = () => noteEvents.parseEvent(stored('Noted', { noteId: 'n1', body: 'b', tags: [] }, 4));
      expect(read).toThrow(UnknownEventVersionError);
      expect(read).toThrow(
        /^Noted \(stream note-n1, revision 4\) is version 4, newer than this code reads \(1 to 3\)/,
      );
      expect(() => noteEvents.parseEvent(stored('Erased', { noteId: 'n1' }, 2))).toThrow(/1 to 1/);
    });

    it.each([[0], [-1], [1.5], ['1'], [null], [undefined]])('schemaVersion %j: not a version', (version) =>
      expect(() => noteEvents.parseEvent(stored('Erased', { noteId: 'n1' }, version))).toThrow(
        /has schemaVersion .* not a version \(1 to 1\)/,
      ),
    );

    it('data its own version refuses, naming that version and the field', () => {
      const read = () => noteEvents.parseEvent(stored('Noted', { noteId: '', text: 'hello' }, 1));
      expect(read).toThrow(InvalidEventError);
      expect(read).toThrow(/^invalid Noted \(stream note-n1, revision 4\) \(version 1\): .*noteId/s);
    });

    it('an upcaster whose output the next version refuses, naming the version it failed to become', () => {
      const broken = eventVersions(NoteEvent, [
        eventHistory(NotedV1)
          .to(NotedV2, (v1) => ({ ...v1, tags: [] }))
          .to(Noted, ({ text, ...v2 }) => ({ ...v2, body: text })),
      ]);
      expect(() => broken.parseEvent(stored('Noted', { noteId: 'n1', text: '' }, 1))).toThrow(
        /invalid Noted .*\(version 3\): .*body/s,
      );
    });

    it('an unknown type, as the union does', () =>
      expect(() => noteEvents.parseEvent(stored('Shredded', { noteId: 'n1' }, 1))).toThrow(
        InvalidEventError,
      ));
  });

  describe('defining', () => {
    it('a history must end in the schema the union holds', () =>
      expect(() =>
        eventVersions(NoteEvent, [eventHistory(NotedV1).to(NotedV2, (v1) => ({ ...v1, tags: [] }))]),
      ).toThrow(/Noted's history does not end in its schema in the event union/));

    it('one history per type', () =>
      expect(() => eventVersions(NoteEvent, [notedHistory, notedHistory])).toThrow(
        /Noted has two histories/,
      ));

    it('a version is of the same type', () =>
      expect(() => eventHistory(NotedV1).to(Erased as never, () => ({}) as never)).toThrow(
        /a version of Noted cannot be a Erased/,
      ));
  });

  it('every upcaster: whatever its version accepted reads as the current version', () =>
    fc.assert(
      fc.property(
        fc.oneof(
          fc
            .record({ noteId: fc.string({ minLength: 1 }), text: fc.string() })
            .map((data) => ({ data, v: 1 })),
          fc
            .record({ noteId: fc.string({ minLength: 1 }), text: fc.string(), tags: fc.array(fc.string()) })
            .map((data) => ({ data, v: 2 })),
        ),
        ({ data, v }) => {
          const event = noteEvents.parseEvent(stored('Noted', data, v));
          expect(Noted.parse(event)).toEqual(event);
          expect(event.type === 'Noted' && event.data.noteId).toBe(data.noteId);
        },
      ),
    ));
});
