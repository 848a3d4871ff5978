import { z } from 'zod';
import { principalOf } from '../../infra/auth/authenticate.js';
import { isAdmin, type Principal } from '../../infra/auth/principal.js';
import type { HttpApp } from '../../infra/http/create-http-app.js';
import { ACCOUNT_TRANSACTIONS_PROJECTION } from '../../projections/accounts/account-transactions-projection.js';
import { ACCOUNTS_PROJECTION } from '../../projections/accounts/accounts-projection.js';
import type { ReadyResponse } from '../cache/ready-response.js';
import { toPage } from '../http/page.js';
import { decodeCursor } from '../http/page-cursor.js';
import {
  expectedProblem,
  notModifiedResponse,
  problemResponse,
  sendProblem,
} from '../http/problem-responses.js';
import { sendReady } from '../http/ready-reply.js';
import type { QueryContext } from '../query-module.js';
import { accountReadModel, accountViews } from './account-read-model.js';
import { createAccountReader } from './account-reader.js';
import {
  AccountPage,
  AccountParams,
  AccountView,
  ListAccountsQuery,
  ListTransactionsQuery,
  NoQuery,
  TransactionPage,
} from './account-views.js';

const invalid = problemResponse('A path, query or header value is malformed or unknown; nothing was read');
const unavailable = (timeoutMs: number) =>
  problemResponse(
    `x-min-position was not reached within READ_CONSISTENCY_TIMEOUT_MS (here ${timeoutMs} ms); ` +
      'retry after the Retry-After seconds',
  );
const tags = ['accounts: queries'];

// An expected outcome, answered as a value: no Error (and no stack) is built for it.
const accountNotFound = expectedProblem(404, 'account-not-found', 'account not found');

/**
 * Only the owner, or an admin, reads an account or its transactions. Anyone else is told there is
 * no such account, as if it did not exist: a 403 would confirm that the id is taken. The owner is
 * kept beside the account's ready response, so a cache hit is checked without parsing it.
 */
const readableBy = (principal: Principal, account: ReadyResponse | undefined) =>
  account !== undefined && (account.owner === principal.subject || isAdmin(principal)) ? account : undefined;

const AccountCursorKey = AccountParams.shape.id;
const TransactionCursorKey = z.number().int().nonnegative();

/** GET /accounts/:id (cache first), GET /accounts and GET /accounts/:id/transactions (pages). */
export const accountQueryRoutes = (
  app: HttpApp,
  { readStores, cacheAside, documentViews, consistent, headers, consistencyTimeoutMs }: QueryContext,
) => {
  const models = {
    usual: accountReadModel(readStores.usual),
    consistent: accountReadModel(readStores.consistent),
  };
  const views = accountViews(documentViews);
  const readAccount = createAccountReader({ models, views, cacheAside });
  const notFound = problemResponse('No such account');
  const modelFor = (fresh: boolean) => (fresh ? models.consistent : models.usual);
  const common = { 304: notModifiedResponse, 400: invalid, 503: unavailable(consistencyTimeoutMs) };
  app.get(
    '/accounts/:id',
    {
      schema: {
        tags,
        summary: 'Get an account',
        headers,
        params: AccountParams,
        querystring: NoQuery,
        response: { 200: AccountView, ...common, 404: notFound },
      },
    },
    async (request, reply) => {
      const fresh = await consistent(request, reply, [ACCOUNTS_PROJECTION]);
      const account = readableBy(principalOf(request), await readAccount(request.params.id, { fresh }));
      if (account === undefined)
        return sendProblem(request, reply, accountNotFound, `no account ${request.params.id}`);
      return sendReady(reply, account);
    },
  );

  app.get(
    '/accounts',
    {
      schema: {
        tags,
        summary:
          "List the caller's accounts (an admin's: every account), by owner and status, in account id order",
        headers,
        querystring: ListAccountsQuery,
        response: { 200: AccountPage, ...common },
      },
    },
    async (request, reply) => {
      const { owner, status, limit, cursor } = request.query;
      const principal = principalOf(request);
      const ownerId = isAdmin(principal) ? undefined : principal.subject;
      // The subject is part of the cursor's scope: a cursor is no use to anyone else.
      const scope = JSON.stringify(['accounts', ownerId ?? null, owner ?? null, status ?? null]);
      const after = cursor === undefined ? undefined : decodeCursor(cursor, scope, AccountCursorKey);
      const fresh = await consistent(request, reply, [ACCOUNTS_PROJECTION]);
      const rows = await modelFor(fresh).listAccounts({ owner, ownerId, status, after, limit });
      return toPage(rows, limit, views.account, (row) => row._id, scope);
    },
  );

  app.get(
    '/accounts/:id/transactions',
    {
      schema: {
        tags,
        summary: "List an account's deposits and withdrawals, in order",
        headers,
        params: AccountParams,
        querystring: ListTransactionsQuery,
        response: { 200: TransactionPage, ...common, 404: notFound },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { limit, cursor } = request.query;
      const scope = JSON.stringify(['account-transactions', id]);
      const after = cursor === undefined ? undefined : decodeCursor(cursor, scope, TransactionCursorKey);
      const fresh = await consistent(request, reply, [ACCOUNTS_PROJECTION, ACCOUNT_TRANSACTIONS_PROJECTION]);
      if (readableBy(principalOf(request), await readAccount(id, { fresh })) === undefined)
        return sendProblem(request, reply, accountNotFound, `no account ${id}`);
      const rows = await modelFor(fresh).listTransactions({
        accountId: id,
        after,
        limit,
      });
      return toPage(rows, limit, views.transaction, (row) => row.revision, scope);
    },
  );
};
