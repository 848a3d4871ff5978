import { z } from 'zod';
import { AccountId } from '../../domain/accounts/account.js';
import { Amount } from '../../domain/shared/money.js';
import { RequestTransfer, TransferId, transferAggregate } from '../../domain/transfers/transfer.js';
import { TransferView } from '../../domain/transfers/transfer-view.js';
import { principalOf } from '../../infra/auth/authenticate.js';
import {
  type EventStore,
  isEventStoreUnavailable,
  positionToJson,
} from '../../infra/event-store/event-store.js';
import type { HttpApp } from '../../infra/http/create-http-app.js';
import { problemResponses } from '../../infra/http/problem-details.js';
import { CommandHeaders, type HttpCommandRunner, idempotencyKeyOf } from '../pipeline/http-command.js';
import { idFromIdempotencyKey } from '../pipeline/idempotency.js';
import { createPreferWait } from '../process-manager/prefer-wait.js';
import type { TransferOutcomes } from './transfer-outcomes.js';
import { transferStreamId } from './transfer-process.js';
import { transferViewOf } from './transfer-reply.js';

export type TransferRoutesConfig = {
  /** How long the transfer process keeps trying before it fails a transfer (TRANSFER_DEADLINE_MS). */
  deadlineMs: number;
  /** The most seconds a `Prefer: wait` is honoured for (TRANSFER_WAIT_MAX_SECONDS). */
  waitMaxSeconds: number;
  /** Requests waiting at once (TRANSFER_WAIT_MAX_WAITERS); beyond it a request is not waited for. Unset: no bound. */
  waitMaxWaiters?: number;
};

/** The defaults of the same variables in infra/config.ts. */
export const defaultTransferRoutesConfig: TransferRoutesConfig = { deadlineMs: 60_000, waitMaxSeconds: 30 };

export type TransferRoutesDeps = {
  run: HttpCommandRunner;
  outcomes: TransferOutcomes;
  eventStore: EventStore;
  config: TransferRoutesConfig;
  now?: () => number;
};

export const TransferBody = z.strictObject({
  fromAccountId: AccountId,
  toAccountId: AccountId,
  amount: Amount,
  transferId: TransferId.optional().describe(
    'Chosen by the client, or derived from the Idempotency-Key, or random',
  ),
});

const position = z
  .string()
  .describe('Global position of the event; send it back as x-min-position to read your write');

export const TransferAccepted = z
  .object({ transferId: TransferId, status: z.literal('pending'), position })
  .meta({ id: 'TransferAccepted' });

export const TransferSettled = TransferView.extend({
  position: position.describe('Global position of the event that settled the transfer (x-min-position)'),
}).meta({ id: 'TransferSettled' });

const headers = (waitMaxSeconds: number) =>
  CommandHeaders.extend({
    prefer: z
      .string()
      .optional()
      .describe(
        `wait=N: answer 200 with the outcome once the transfer completes or fails, waiting at most N seconds ` +
          `(capped at TRANSFER_WAIT_MAX_SECONDS, here ${waitMaxSeconds}); 202 if it is still pending then. ` +
          'A Prefer without a well-formed wait is ignored (RFC 7240).',
      ),
  });

export const transferCommandRoutes = (app: HttpApp, deps: TransferRoutesDeps) => {
  const { run, outcomes, eventStore, config } = deps;
  const now = deps.now ?? Date.now;
  const preferWait = createPreferWait({
    maxSeconds: config.waitMaxSeconds,
    maxWaiters: config.waitMaxWaiters ?? Number.POSITIVE_INFINITY,
  });

  app.post(
    '/transfers',
    {
      schema: {
        tags: ['transfers: commands'],
        summary: 'Transfer money between two accounts',
        description:
          'Accepted at once (202) and carried out asynchronously: withdraw from the source, deposit to the ' +
          'target; a deposit that fails is refunded to the source. A transfer still pending after ' +
          'TRANSFER_DEADLINE_MS fails with deadline_exceeded (refunded if need be). Poll the Location ' +
          '(GET /transfers/{id}), or send `Prefer: wait=N` to get the outcome in the response.',
        headers: headers(config.waitMaxSeconds),
        body: TransferBody,
        response: {
          200: TransferSettled,
          202: TransferAccepted,
          ...problemResponses(400, 401, 404, 409, 413, 415, 422, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const idempotencyKey = idempotencyKeyOf(request);
      const { fromAccountId, toAccountId, amount } = request.body;
      const transferId = request.body.transferId ?? idFromIdempotencyKey('tr', idempotencyKey);
      const command = RequestTransfer.parse({
        type: 'RequestTransfer',
        transferId,
        fromAccountId,
        toAccountId,
        amount,
        deadline: new Date(now() + config.deadlineMs).toISOString(),
        by: principalOf(request),
      });
      const accepted = await run(request, reply, {
        aggregate: transferAggregate,
        id: transferId,
        command,
        status: 202,
        body: (result) => ({
          transferId,
          status: 'pending' as const,
          position: positionToJson(result.position),
        }),
        idempotencyKey,
        // The deadline comes from the clock: a retry is the same request without it.
        sameRequest: [transferId, { fromAccountId, toAccountId, amount }],
      });
      reply.header('location', `/transfers/${transferId}`);

      // Not asked for, or too many waiting already (prefer-wait.ts): 202 now, without Preference-Applied.
      const wait = preferWait(request.headers.prefer);
      if (wait === undefined) return accepted;
      const { seconds, release } = wait;
      reply.header('preference-applied', `wait=${seconds}`);
      // A client that hangs up stops the wait: nobody is left to answer.
      const hangUp = new AbortController();
      const abort = () => hangUp.abort();
      reply.raw.once('close', abort);
      let settled: { view: TransferView; position: string } | undefined;
      try {
        const outcome = await outcomes.wait(transferId, {
          timeoutMs: seconds * 1000,
          signal: hangUp.signal,
        });
        const view = outcome && transferViewOf(await eventStore.readStream(transferStreamId(transferId)));
        if (outcome && view) settled = { view, position: positionToJson(outcome.position) };
      } catch (error) {
        // The transfer is accepted; only its outcome cannot be read now: answer 202, poll later.
        if (!isEventStoreUnavailable(error)) throw error;
        request.log.warn({ err: error }, 'transfer outcome unknown: the event store is unavailable');
      } finally {
        reply.raw.off('close', abort);
        release();
      }
      if (!settled) return accepted;
      reply.code(200);
      return { ...settled.view, position: settled.position };
    },
  );
};
