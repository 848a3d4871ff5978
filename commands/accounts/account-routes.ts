import { z } from 'zod';
import {
  AccountId,
  accountAggregate,
  CloseAccount,
  DepositMoney,
  OpenAccount,
  WithdrawMoney,
} from '../../domain/accounts/account.js';
import { principalOf } from '../../infra/auth/authenticate.js';
import { positionToJson } from '../../infra/event-store/event-store.js';
import type { HttpApp } from '../../infra/http/create-http-app.js';
import { problemResponses } from '../../infra/http/problem-details.js';
import type { CommandRoutesContext } from '../command-module.js';
import type { CommandResult } from '../pipeline/handle-command.js';
import { CommandHeaders, idempotencyKeyOf } from '../pipeline/http-command.js';
import { idFromIdempotencyKey } from '../pipeline/idempotency.js';

// Request bodies are the domain commands minus what the URL says; strict, so an unknown field is
// a 400 rather than silently ignored.
// Who asks (`by`) comes from the bearer token, never from the body.
const { type: _t1, by: _b1, ...openFields } = OpenAccount.shape;
const { type: _t2, accountId: _a2, ...moneyFields } = DepositMoney.shape;
export const OpenAccountBody = z.strictObject({ ...openFields, accountId: AccountId.optional() });
export const MoneyBody = z.strictObject(moneyFields);
export const AccountParams = z.object({ id: AccountId });

export const CommandAccepted = z
  .object({
    accountId: AccountId,
    revision: z.number().int().describe('Revision of the account stream after the command'),
    position: z
      .string()
      .describe(
        'Global position of the last event appended; send it back as x-min-position to read your write',
      ),
  })
  .meta({ id: 'CommandAccepted' });

const accepted = (accountId: string) => (result: CommandResult) => ({
  accountId,
  revision: result.revision,
  position: positionToJson(result.position),
});

const errors = problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429, 503);

/** Open, deposit, withdraw, close: each a route that hands one command to the shared runner. */
export const accountCommandRoutes = (app: HttpApp, { run }: CommandRoutesContext) => {
  app.post(
    '/accounts',
    {
      schema: {
        tags: ['accounts: commands'],
        summary: 'Open an account',
        headers: CommandHeaders,
        body: OpenAccountBody,
        response: { 201: CommandAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const idempotencyKey = idempotencyKeyOf(request);
      const accountId = request.body.accountId ?? idFromIdempotencyKey('acc', idempotencyKey);
      const command = { type: 'OpenAccount' as const, ...request.body, accountId, by: principalOf(request) };
      return run(request, reply, {
        aggregate: accountAggregate,
        id: accountId,
        command: OpenAccount.parse(command),
        status: 201,
        body: accepted(accountId),
        idempotencyKey,
      });
    },
  );

  for (const [path, type, schema, summary] of [
    ['deposits', 'DepositMoney', DepositMoney, 'Deposit money'],
    ['withdrawals', 'WithdrawMoney', WithdrawMoney, 'Withdraw money'],
  ] as const)
    app.post(
      `/accounts/:id/${path}`,
      {
        schema: {
          tags: ['accounts: commands'],
          summary,
          headers: CommandHeaders,
          params: AccountParams,
          body: MoneyBody,
          response: { 200: CommandAccepted, ...errors },
        },
      },
      async (request, reply) =>
        run(request, reply, {
          aggregate: accountAggregate,
          id: request.params.id,
          command: schema.parse({
            type,
            accountId: request.params.id,
            ...request.body,
            by: principalOf(request),
          }),
          status: 200,
          body: accepted(request.params.id),
        }),
    );

  app.post(
    '/accounts/:id/close',
    {
      schema: {
        tags: ['accounts: commands'],
        summary: 'Close an account (only at zero balance)',
        headers: CommandHeaders,
        params: AccountParams,
        // No body, or an empty JSON object.
        body: z.strictObject({}).nullish(),
        response: { 200: CommandAccepted, ...errors },
      },
    },
    async (request, reply) =>
      run(request, reply, {
        aggregate: accountAggregate,
        id: request.params.id,
        command: CloseAccount.parse({
          type: 'CloseAccount',
          accountId: request.params.id,
          by: principalOf(request),
        }),
        status: 200,
        body: accepted(request.params.id),
      }),
  );
};
