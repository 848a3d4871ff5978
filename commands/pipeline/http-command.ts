import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Aggregate } from '../../domain/shared/decider.js';
import { principalOf } from '../../infra/auth/authenticate.js';
import { isEventStoreUnavailable } from '../../infra/event-store/event-store.js';
import { HttpProblem } from '../../infra/http/problem-details.js';
import {
  type CommandHandler,
  type CommandResult,
  ConcurrencyConflictError,
  IdempotencyKeyReusedError,
} from './handle-command.js';
import {
  DEFAULT_IDEMPOTENCY_RETENTION_MS,
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENCY_KEY_PATTERN,
  type IdempotencyStore,
  requestHash,
} from './idempotency.js';

export const IDEMPOTENT_REPLAY_HEADER = 'idempotent-replayed';

/**
 * The headers every command route documents. Loose: a strict or stripping schema would drop every
 * other header from the request. The key itself is checked by idempotencyKeyOf.
 */
export const CommandHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .optional()
    .describe('Makes the command safe to retry: a repeat returns the first response and appends nothing'),
  'x-correlation-id': z
    .string()
    .optional()
    .describe('Carried into every event, saga command and log line; generated if absent'),
});

/** Reads and checks the Idempotency-Key header; undefined when the caller sent none. */
export const idempotencyKeyOf = (request: FastifyRequest): string | undefined => {
  const key = request.headers[IDEMPOTENCY_KEY_HEADER];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(key))
    throw new HttpProblem(
      400,
      'invalid-idempotency-key',
      'Invalid Idempotency-Key header',
      'Idempotency-Key must be one header of 1 to 255 visible ASCII characters',
    );
  return key;
};

/**
 * A caller's key, made distinct from every other caller's and from process managers' step keys
 * (`transfer:<id>:withdraw`): the same key from two callers is two requests. The subject is
 * encoded, so no subject can end where another's key begins.
 */
export const callerScopedKey = (subject: string, key: string) =>
  `caller/${encodeURIComponent(subject)}/${key}`;

/**
 * Runs one command for an HTTP request: correlation from the request, the idempotency record
 * checked before and written after, and pipeline errors turned into problems. Domain errors pass
 * through to the error handler, which knows how to render them, and so does an event store that
 * stayed unreachable through the pipeline's retries (503, see create-http-app.ts).
 */
export const createHttpCommandRunner =
  (deps: { handle: CommandHandler; idempotency: IdempotencyStore; idempotencyRetentionMs?: number }) =>
  async <Command, Event extends { type: string; data: unknown }, State, Body>(
    request: FastifyRequest,
    reply: FastifyReply,
    spec: {
      aggregate: Aggregate<Command, Event, State>;
      id: string;
      command: Command;
      status: number;
      body: (result: CommandResult) => Body;
      /** Set when the caller already read the header (e.g. to derive an id from it). */
      idempotencyKey?: string;
      /**
       * What makes a repeat under the same Idempotency-Key the same request. Default: the id and
       * the command. Set it when the command holds something the server adds, such as a deadline
       * taken from the clock, which a retry would otherwise change.
       */
      sameRequest?: unknown;
    },
  ): Promise<Body> => {
    const actor = principalOf(request).subject;
    const callerKey = spec.idempotencyKey ?? idempotencyKeyOf(request);
    const key = callerKey === undefined ? undefined : callerScopedKey(actor, callerKey);
    const retentionMs = deps.idempotencyRetentionMs ?? DEFAULT_IDEMPOTENCY_RETENTION_MS;
    const correlation = { correlationId: request.id, causationId: request.id };
    const hash = requestHash(
      request.method,
      request.routeOptions.url ?? request.url,
      spec.sameRequest ?? [spec.id, withoutActor(spec.command)],
    );
    try {
      if (key !== undefined) {
        const recorded = await deps.idempotency.find(key, hash);
        if (recorded) {
          reply.code(recorded.status).header(IDEMPOTENT_REPLAY_HEADER, 'true');
          return recorded.body as Body;
        }
      }
      const result = await deps.handle(spec.aggregate, spec.id, spec.command, {
        ...correlation,
        actor,
        ...(key !== undefined && { idempotency: { key, requestHash: hash, retentionMs } }),
      });
      const body = spec.body(result);
      if (key !== undefined)
        await deps.idempotency.save(key, hash, { status: spec.status, body }, correlation).catch((error) => {
          // The command took effect, so it is answered. Without the record, a repeat is still
          // recognised by the key its events carry in the stream (handle-command.ts).
          if (!isEventStoreUnavailable(error)) throw error;
          request.log.warn({ err: error }, 'idempotency record not saved: the event store is unavailable');
        });
      reply.code(spec.status);
      if (result.replayed) reply.header(IDEMPOTENT_REPLAY_HEADER, 'true');
      return body;
    } catch (error) {
      if (error instanceof IdempotencyKeyReusedError)
        throw new HttpProblem(422, 'idempotency-key-reused', 'Idempotency-Key reused', error.message);
      if (error instanceof ConcurrencyConflictError)
        throw new HttpProblem(409, 'concurrency-conflict', 'Too many concurrent changes', error.message, {
          'retry-after': '1',
        });
      throw error;
    }
  };

/** Who asks is the key's scope (callerScopedKey), not part of the request: a role granted between two tries changes nothing. */
const withoutActor = (command: unknown) => {
  if (typeof command !== 'object' || command === null || !('by' in command)) return command;
  const { by: _, ...rest } = command;
  return rest;
};

export type HttpCommandRunner = ReturnType<typeof createHttpCommandRunner>;
