import type { z } from 'zod';
import type { Logger } from '../../infra/logger.js';
import type { Document } from '../../infra/read-store/read-store.js';
import type { ReadStats } from '../read-stats.js';

/** Turns a read-model document into its view, or undefined when it does not make a valid one. */
export type DocumentView<Doc extends Document, View> = (doc: Doc) => View | undefined;

/**
 * Where read-model documents become views, checked against the view's schema. A document that
 * does not match (a projection bug, a document written before a schema change, a hand edit) would
 * otherwise fail the response serialization: a 500 for it, and for every list page it falls on.
 * Instead it is logged with its id, counted, and answered as absent (404 for one, left out of a list).
 */
export const createDocumentViews =
  ({ logger, stats }: { logger: Logger; stats: ReadStats }) =>
  <Doc extends Document, View>(
    collection: string,
    schema: z.ZodType<View>,
    toView: (doc: Doc) => unknown,
  ): DocumentView<Doc, View> =>
  (doc) => {
    const parsed = schema.safeParse(toView(doc));
    if (parsed.success) return parsed.data;
    stats.invalidDocuments++;
    logger.error(
      { collection, id: doc._id, issues: parsed.error.issues },
      'read-model document does not match its view: answered as absent',
    );
    return undefined;
  };

export type DocumentViews = ReturnType<typeof createDocumentViews>;
