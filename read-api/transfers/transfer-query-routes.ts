import { z } from 'zod';
import { principalOf } from '../../infra/auth/authenticate.js';
import { isAdmin } from '../../infra/auth/principal.js';
import type { HttpApp } from '../../infra/http/create-http-app.js';
import { HttpProblem } from '../../infra/http/problem-details.js';
import {
  TRANSFERS,
  TRANSFERS_PROJECTION,
  type TransferDocument,
} from '../../projections/transfers/transfers-projection.js';
import { notModifiedResponse, problemResponse } from '../http/problem-responses.js';
import type { QueryContext } from '../query-module.js';
import { TransferParams, TransferView } from './transfer-views.js';

export const toTransferView = (doc: TransferDocument): TransferView => ({
  transferId: doc.transferId,
  fromAccountId: doc.fromAccountId,
  toAccountId: doc.toAccountId,
  amount: doc.amount,
  requestedBy: doc.requestedBy,
  status: doc.status,
  ...(doc.reason !== undefined && { reason: doc.reason }),
  createdAt: doc.createdAt,
  updatedAt: doc.updatedAt,
});

/**
 * GET /transfers/:id, from the `transfers` read model. No cache: a transfer is read a few times
 * while it is pending, and a cached "pending" would hide the outcome the client is polling for.
 */
export const transferQueryRoutes = (
  app: HttpApp,
  { readStores, documentViews, consistent, headers, consistencyTimeoutMs }: QueryContext,
) => {
  const transferView = documentViews(TRANSFERS, TransferView, toTransferView);
  app.get(
    '/transfers/:id',
    {
      schema: {
        tags: ['transfers: queries'],
        summary: 'Get a transfer: pending, completed or failed (with the reason)',
        headers,
        params: TransferParams,
        querystring: z.strictObject({}),
        response: {
          200: TransferView,
          304: notModifiedResponse,
          400: problemResponse('A path or header value is malformed; nothing was read'),
          404: problemResponse(
            'No such transfer (or the read model has not seen it yet: send x-min-position)',
          ),
          503: problemResponse(
            `x-min-position was not reached within READ_CONSISTENCY_TIMEOUT_MS (here ${consistencyTimeoutMs} ms); ` +
              'retry after the Retry-After seconds',
          ),
        },
      },
    },
    async (request, reply) => {
      const fresh = await consistent(request, reply, [TRANSFERS_PROJECTION]);
      const store = fresh ? readStores.consistent : readStores.usual;
      const doc = await store.collection<TransferDocument>(TRANSFERS).findOne({ _id: request.params.id });
      const view = doc === null ? undefined : transferView(doc);
      const principal = principalOf(request);
      // Someone else's transfer is not found, as an account is (account-query-routes.ts).
      if (view === undefined || (view.requestedBy !== principal.subject && !isAdmin(principal)))
        throw new HttpProblem(
          404,
          'transfer-not-found',
          'transfer not found',
          `no transfer ${request.params.id}`,
        );
      return view;
    },
  );
};
