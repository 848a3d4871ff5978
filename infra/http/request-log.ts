import { type FastifyReply, type FastifyRequest, LogController, type onResponseHookHandler } from 'fastify';
import type { Logger } from '../logger.js';

export type RequestLogOptions = {
  /** A request that took this long or longer is logged at info (ms). */
  slowMs: number;
  /** One request in this many is logged at info, whatever its outcome; 0: none. */
  sampleEvery: number;
};

/**
 * Measured with bench:read (README, Logging): Fastify's own request logging, two lines per
 * request at info, cost about 10 µs of CPU per cache hit, a seventh of it, on a route whose work is
 * a map lookup.
 */
export const defaultRequestLog: RequestLogOptions = { slowMs: 1000, sampleEvery: 100 };

/**
 * Fastify's log controller without its two lines per request (incoming, completed), which
 * requestLogHook replaces; the errors it logs (a failed stream, writeHead or serializer) stay.
 */
export class RequestLogController extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(): void {}
}

/**
 * What replaces Fastify's request logging (RequestLogController): one line per request, when it
 * ends, at info for server errors (5xx), slow requests and a sample, and at debug for every other
 * request, so LOG_LEVEL=debug still shows each one. The line is the request's own logger's, so it
 * carries the correlation id, as every line logged during the request does (errors included,
 * create-http-app.ts). A route's logLevel (the health probes' and /metrics' warn) holds it back.
 */
export const requestLogHook = ({ slowMs, sampleEvery }: RequestLogOptions): onResponseHookHandler => {
  let seen = 0;
  const line = (request: FastifyRequest, reply: FastifyReply, responseTime: number) => ({
    method: request.method,
    url: request.url,
    statusCode: reply.statusCode,
    responseTime,
  });
  return (request, reply, done) => {
    seen = sampleEvery > 0 ? (seen + 1) % sampleEvery : 1;
    const responseTime = reply.elapsedTime;
    if (reply.statusCode >= 500 || responseTime >= slowMs || seen === 0)
      request.log.info(line(request, reply, responseTime), 'request completed');
    else if ((request.log as Logger).isLevelEnabled('debug'))
      request.log.debug(line(request, reply, responseTime), 'request completed');
    done();
  };
};
