import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { POSITION_PATTERN, positionFromJson } from '../../infra/event-store/event-store.js';
import { HttpProblem } from '../../infra/http/problem-details.js';
import { createWaiterCap, tooManyWaiters } from '../../infra/http/waiter-cap.js';
import type { WaitForCheckpoint } from '../../projections/engine/checkpoint-watch.js';
import type { ReadStats } from '../read-stats.js';

export const MIN_POSITION_HEADER = 'x-min-position';
/** Seconds a client should wait before retrying a read whose position was not reached in time. */
const RETRY_AFTER_SECONDS = '1';

/**
 * The headers every read route takes. Loose, because a strict or stripping schema would drop every
 * other header from the request; a repeated x-min-position arrives joined with ", " and fails the
 * pattern.
 */
export const readHeaders = (timeoutMs: number) =>
  z.looseObject({
    [MIN_POSITION_HEADER]: z
      .string()
      .regex(POSITION_PATTERN, {
        message: 'x-min-position must be a position: a decimal integer',
        abort: true,
      })
      .refine((text) => positionFromJson(text) !== undefined, 'x-min-position is beyond any position')
      .optional()
      .describe(
        'Read your writes: the `position` of a command response. The read waits until the read model ' +
          `has processed it, at most READ_CONSISTENCY_TIMEOUT_MS (here ${timeoutMs} ms), and answers 503 ` +
          'with Retry-After if it has not by then, rather than answer with older data.',
      ),
    'if-none-match': z
      .string()
      .optional()
      .describe('The ETag of a response already held: answered 304 without a body while it is current'),
  });

export type ConsistencyGate = ReturnType<typeof createConsistencyGate>;

/**
 * Holds a read until the projections behind it have reached the position the client asked for.
 * Resolves true when the request carried a position (so the caller knows to bypass the cache,
 * which carries no position), false when it did not.
 */
export const createConsistencyGate = (deps: {
  wait: WaitForCheckpoint;
  timeoutMs: number;
  stats: ReadStats;
  /** Reads waiting at once (READ_CONSISTENCY_MAX_WAITERS); one more is answered 503. Unset: no bound. */
  maxWaiters?: number;
}) => {
  const cap = createWaiterCap(deps.maxWaiters ?? Number.POSITIVE_INFINITY);
  return async (
    request: FastifyRequest,
    reply: FastifyReply,
    projections: readonly string[],
  ): Promise<boolean> => {
    const header = request.headers[MIN_POSITION_HEADER];
    if (typeof header !== 'string') return false;
    // The route schema has checked the pattern; this is the conversion to a position.
    const position = positionFromJson(header);
    if (position === undefined) throw new HttpProblem(400, 'invalid-request', 'Invalid x-min-position');
    // A read changes nothing, so refusing it before it waits is safe: the client retries.
    const release = cap.take();
    if (!release) throw tooManyWaiters('the read model to reach a position', cap.max);

    deps.stats.consistencyWaits++;
    // Stops the other waits once one has failed, and every wait when the client hangs up: no reason
    // to keep a poll loop busy for nobody.
    const stop = new AbortController();
    let clientGone = false;
    const hangUp = () => {
      clientGone = true;
      stop.abort();
    };
    reply.raw.once('close', hangUp);
    try {
      const reached = await Promise.all(
        projections.map(async (projection) => {
          const ok = await deps.wait(projection, position, {
            timeoutMs: deps.timeoutMs,
            signal: stop.signal,
          });
          if (!ok) stop.abort();
          return ok;
        }),
      );
      if (reached.every(Boolean)) return true;
    } finally {
      reply.raw.off('close', hangUp);
      release();
    }
    if (clientGone) {
      deps.stats.consistencyAborts++;
      throw new HttpProblem(503, 'client-closed-request', 'Client closed the request');
    }
    deps.stats.consistencyTimeouts++;
    throw new HttpProblem(
      503,
      'consistency-timeout',
      'Read model has not caught up',
      `the read model did not reach position ${header} within ${deps.timeoutMs} ms; retry later`,
      { 'retry-after': RETRY_AFTER_SECONDS },
    );
  };
};
