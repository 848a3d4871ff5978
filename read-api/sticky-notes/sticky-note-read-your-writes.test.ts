import { afterEach, describe, expect, it } from 'vitest';
import { stickyNotes } from '../../app/modules/sticky-notes.js';
import { type InProcessApp, startInProcessApp } from '../../app/testing/in-process-app.js';
import { samples } from '../../domain/sticky-notes/testing/sticky-note-samples.js';

let running: InProcessApp | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe('sticky-notes: read your writes', () => {
  it('shows each command on the reads that carry its position, through the module', async () => {
    // The module alone, composed as the app composes its list: write API → projectors → read API.
    running = await startInProcessApp({ modules: [stickyNotes] });
    const { app } = running;

    const command = async (url: string, payload: object = {}) => {
      const response = await app.inject({ method: 'POST', url, payload });
      expect(response.statusCode).toBeLessThan(300);
      return response.json().position as string;
    };
    const read = async (url: string, position: string) => {
      const response = await app.inject({ url, headers: { 'x-min-position': position } });
      expect(response.statusCode).toBe(200);
      return response.json();
    };

    const created = await command('/sticky-notes', { stickyNoteId: 'e-1', ...samples.created });
    expect(await read('/sticky-notes/e-1', created)).toMatchObject({
      stickyNoteId: 'e-1',
      ...samples.created,
      status: 'active',
      revision: 0,
    });
    const edited = await command('/sticky-notes/e-1/edit', samples.edit);
    expect(await read('/sticky-notes/e-1', edited)).toMatchObject({ ...samples.edit, revision: 1 });
    const archived = await command('/sticky-notes/e-1/archive');
    expect(await read('/sticky-notes/e-1', archived)).toMatchObject({
      status: 'archived',
      archivedAt: expect.any(String),
      revision: 2,
    });
    expect(await read('/sticky-notes?status=archived', archived)).toMatchObject({
      items: [{ stickyNoteId: 'e-1', status: 'archived' }],
      nextCursor: null,
    });
  });

  it('documents its routes in /openapi.json', async () => {
    running = await startInProcessApp({ modules: [stickyNotes] });
    const spec = (await running.app.inject({ url: '/openapi.json' })).json();
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/sticky-notes',
        '/sticky-notes/{id}',
        '/sticky-notes/{id}/archive',
        '/sticky-notes/{id}/edit',
      ]),
    );
    expect(Object.keys(spec.components.schemas)).toEqual(
      expect.arrayContaining(['StickyNote', 'StickyNotePage', 'StickyNoteCommandAccepted']),
    );
  });
});
