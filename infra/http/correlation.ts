import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const CORRELATION_HEADER = 'x-correlation-id';

// Accept the caller's id only if it is a sane token; anything else (too long, odd characters,
// repeated header) is replaced rather than rejected, since tracing must never fail a request.
const acceptable = /^[A-Za-z0-9._:-]{1,128}$/;

/** Fastify's genReqId: the request id *is* the correlation id, so every log line carries it. */
export const correlationIdFor = (request: IncomingMessage): string => {
  const given = request.headers[CORRELATION_HEADER];
  return typeof given === 'string' && acceptable.test(given) ? given : randomUUID();
};
