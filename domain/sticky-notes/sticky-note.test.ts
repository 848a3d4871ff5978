import { describe, it } from 'vitest';
import { spec } from '../shared/decider-specification.js';
import { type StickyNoteEvent, stickyNoteDecider } from './sticky-note.js';
import { samples } from './testing/sticky-note-samples.js';

const given = spec(stickyNoteDecider).given;
const stickyNoteId = 'sticky-note-1';
// A fixed time: the command carries it, as the route would from its clock.
const at = '2026-03-01T12:00:00.000Z';
const created: StickyNoteEvent = { type: 'StickyNoteCreated', data: { stickyNoteId, ...samples.created } };
const edited: StickyNoteEvent = { type: 'StickyNoteEdited', data: { stickyNoteId, ...samples.edit } };
const archived: StickyNoteEvent = { type: 'StickyNoteArchived', data: { stickyNoteId, archivedAt: at } };

describe('StickyNote decider', () => {
  describe('CreateStickyNote', () => {
    it('creates a sticky note', () =>
      given([])
        .when({ type: 'CreateStickyNote', stickyNoteId, ...samples.created })
        .then([created]));

    it('rejects creating a sticky note twice', () =>
      given([created])
        .when({ type: 'CreateStickyNote', stickyNoteId, ...samples.created })
        .thenRejects('sticky_note_already_exists'));
  });

  describe('EditStickyNote', () => {
    it('records the fields the edit changes', () =>
      given([created])
        .when({ type: 'EditStickyNote', stickyNoteId, ...samples.edit })
        .then([edited]));

    it('records only the fields that change', () =>
      given([created])
        .when({ type: 'EditStickyNote', stickyNoteId, ...samples.created, ...samples.edit })
        .then([edited]));

    it('records nothing when nothing changes', () =>
      given([created, edited])
        .when({ type: 'EditStickyNote', stickyNoteId, ...samples.edit })
        .then([]));

    it('rejects editing a sticky note that does not exist', () =>
      given([])
        .when({ type: 'EditStickyNote', stickyNoteId, ...samples.edit })
        .thenRejects('sticky_note_not_found'));

    it('rejects editing an archived sticky note', () =>
      given([created, archived])
        .when({ type: 'EditStickyNote', stickyNoteId, ...samples.edit })
        .thenRejects('sticky_note_archived'));
  });

  describe('ArchiveStickyNote', () => {
    it('records when it was archived: the time the command carries', () =>
      given([created, edited])
        .when({ type: 'ArchiveStickyNote', stickyNoteId, at })
        .then([{ type: 'StickyNoteArchived', data: { stickyNoteId, archivedAt: at } }]));

    it('rejects archiving twice', () =>
      given([created, archived])
        .when({ type: 'ArchiveStickyNote', stickyNoteId, at })
        .thenRejects('sticky_note_archived'));

    it('rejects archiving a sticky note that does not exist', () =>
      given([]).when({ type: 'ArchiveStickyNote', stickyNoteId, at }).thenRejects('sticky_note_not_found'));
  });
  // scaffold:specs
});
