import type { HttpApp } from '../../infra/http/create-http-app.js';
import { HttpProblem } from '../../infra/http/problem-details.js';
import { STICKY_NOTES_PROJECTION } from '../../projections/sticky-notes/sticky-notes-projection.js';
import { toPage } from '../http/page.js';
import { decodeCursor } from '../http/page-cursor.js';
import { notModifiedResponse, problemResponse } from '../http/problem-responses.js';
import type { QueryContext } from '../query-module.js';
import { stickyNoteReadModel, stickyNoteViews } from './sticky-note-read-model.js';
import { createStickyNoteReader } from './sticky-note-reader.js';
import {
  ListStickyNotesQuery,
  NoQuery,
  StickyNotePage,
  StickyNoteParams,
  StickyNoteView,
} from './sticky-note-views.js';

const tags = ['sticky-notes: queries'];
/** The list's sort key, what its cursors hold: the id. */
const StickyNoteCursorKey = StickyNoteParams.shape.id;

/** GET /sticky-notes/:id (cache first) and GET /sticky-notes (pages, by status). */
export const stickyNoteQueryRoutes = (
  app: HttpApp,
  { readStores, cacheAside, documentViews, consistent, headers, consistencyTimeoutMs }: QueryContext,
) => {
  const models = {
    usual: stickyNoteReadModel(readStores.usual),
    consistent: stickyNoteReadModel(readStores.consistent),
  };
  const view = stickyNoteViews(documentViews);
  const readStickyNote = createStickyNoteReader({ models, cacheAside, view });
  const common = {
    304: notModifiedResponse,
    400: problemResponse('A path, query or header value is malformed or unknown; nothing was read'),
    503: problemResponse(
      `x-min-position was not reached within READ_CONSISTENCY_TIMEOUT_MS (here ${consistencyTimeoutMs} ms); ` +
        'retry after the Retry-After seconds',
    ),
  };

  app.get(
    '/sticky-notes/:id',
    {
      schema: {
        tags,
        summary: 'Get a sticky note',
        headers,
        params: StickyNoteParams,
        querystring: NoQuery,
        response: {
          200: StickyNoteView,
          ...common,
          404: problemResponse(
            'No such sticky note (or the read model has not seen it yet: send x-min-position)',
          ),
        },
      },
    },
    async (request, reply) => {
      // Waits for x-min-position when the request carries one; true then: read fresh, not cached.
      const fresh = await consistent(request, reply, [STICKY_NOTES_PROJECTION]);
      const found = await readStickyNote(request.params.id, { fresh });
      if (found === undefined)
        throw new HttpProblem(
          404,
          'sticky-note-not-found',
          'sticky note not found',
          `no sticky note ${request.params.id}`,
        );
      return found;
    },
  );

  app.get(
    '/sticky-notes',
    {
      schema: {
        tags,
        summary: 'List sticky notes, by status, in id order',
        headers,
        querystring: ListStickyNotesQuery,
        response: { 200: StickyNotePage, ...common },
      },
    },
    async (request, reply) => {
      const { status, limit, cursor } = request.query;
      // A cursor resumes the query it came from, filters included: another query refuses it.
      const scope = JSON.stringify(['sticky-notes', status ?? null]);
      const after = cursor === undefined ? undefined : decodeCursor(cursor, scope, StickyNoteCursorKey);
      const fresh = await consistent(request, reply, [STICKY_NOTES_PROJECTION]);
      const rows = await models[fresh ? 'consistent' : 'usual'].listStickyNotes({ status, after, limit });
      return toPage(rows, limit, view, (row) => row._id, scope);
    },
  );
};
