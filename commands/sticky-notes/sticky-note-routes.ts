import { z } from 'zod';
import {
  ArchiveStickyNote,
  CreateStickyNote,
  EditStickyNote,
  StickyNoteId,
  stickyNoteAggregate,
  // scaffold:imports
} from '../../domain/sticky-notes/sticky-note.js';
import { positionToJson } from '../../infra/event-store/event-store.js';
import type { HttpApp } from '../../infra/http/create-http-app.js';
import { problemResponses } from '../../infra/http/problem-details.js';
import type { CommandRoutesContext } from '../command-module.js';
import type { CommandResult } from '../pipeline/handle-command.js';
import { CommandHeaders, idempotencyKeyOf } from '../pipeline/http-command.js';
import { idFromIdempotencyKey } from '../pipeline/idempotency.js';

// Request bodies are the domain commands minus what the URL or the server says; strict, so an
// unknown field is a 400 rather than silently ignored.
export const CreateStickyNoteBody = z.strictObject({
  ...CreateStickyNote.omit({ type: true }).shape,
  stickyNoteId: StickyNoteId.optional().describe(
    'Chosen by the client, or derived from the Idempotency-Key, or random',
  ),
});
export const EditStickyNoteBody = z.strictObject(
  EditStickyNote.omit({ type: true, stickyNoteId: true }).shape,
);
// scaffold:bodies
export const StickyNoteParams = z.object({ id: StickyNoteId });

export const StickyNoteCommandAccepted = z
  .object({
    stickyNoteId: StickyNoteId,
    revision: z.number().int().describe('Revision of the sticky note stream after the command'),
    position: z
      .string()
      .describe(
        'Global position of the last event appended; send it back as x-min-position to read your write',
      ),
  })
  .meta({ id: 'StickyNoteCommandAccepted' });

const accepted = (stickyNoteId: string) => (result: CommandResult) => ({
  stickyNoteId,
  revision: result.revision,
  position: positionToJson(result.position),
});

const errors = problemResponses(400, 404, 409, 413, 415, 422, 503);
const tags = ['sticky-notes: commands'];

export type StickyNoteRoutesDeps = {
  /** The clock the commands' times come from (milliseconds since the epoch); tests pass a fixed one. */
  now?: () => number;
};

/** Create, edit, archive: each a route that hands one command to the shared runner. */
export const stickyNoteCommandRoutes =
  ({ now = Date.now }: StickyNoteRoutesDeps = {}) =>
  (app: HttpApp, { run }: CommandRoutesContext) => {
    app.post(
      '/sticky-notes',
      {
        schema: {
          tags,
          summary: 'Create a sticky note',
          headers: CommandHeaders,
          body: CreateStickyNoteBody,
          response: { 201: StickyNoteCommandAccepted, ...errors },
        },
      },
      async (request, reply) => {
        const idempotencyKey = idempotencyKeyOf(request);
        const stickyNoteId = request.body.stickyNoteId ?? idFromIdempotencyKey('sticky-note', idempotencyKey);
        return run(request, reply, {
          aggregate: stickyNoteAggregate,
          id: stickyNoteId,
          command: CreateStickyNote.parse({ type: 'CreateStickyNote', ...request.body, stickyNoteId }),
          status: 201,
          body: accepted(stickyNoteId),
          idempotencyKey,
        });
      },
    );

    app.post(
      '/sticky-notes/:id/edit',
      {
        schema: {
          tags,
          summary: 'Edit a sticky note: change the fields given, keep the others',
          headers: CommandHeaders,
          params: StickyNoteParams,
          body: EditStickyNoteBody,
          response: { 200: StickyNoteCommandAccepted, ...errors },
        },
      },
      async (request, reply) =>
        run(request, reply, {
          aggregate: stickyNoteAggregate,
          id: request.params.id,
          command: EditStickyNote.parse({
            type: 'EditStickyNote',
            stickyNoteId: request.params.id,
            ...request.body,
          }),
          status: 200,
          body: accepted(request.params.id),
        }),
    );

    app.post(
      '/sticky-notes/:id/archive',
      {
        schema: {
          tags,
          summary: 'Archive a sticky note (for good)',
          headers: CommandHeaders,
          params: StickyNoteParams,
          // No body, or an empty JSON object.
          body: z.strictObject({}).nullish(),
          response: { 200: StickyNoteCommandAccepted, ...errors },
        },
      },
      async (request, reply) =>
        run(request, reply, {
          aggregate: stickyNoteAggregate,
          id: request.params.id,
          command: ArchiveStickyNote.parse({
            type: 'ArchiveStickyNote',
            stickyNoteId: request.params.id,
            // The time comes from the clock here, not in the domain: decide stays a pure function.
            at: new Date(now()).toISOString(),
          }),
          status: 200,
          body: accepted(request.params.id),
          // A retry under the same Idempotency-Key comes later: the same request, another time.
          sameRequest: [request.params.id],
        }),
    );
    // scaffold:routes
  };
