import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../logger.js';
import { PROBLEM_CONTENT_TYPE, problemType } from './problem-details.js';

/**
 * Limits on what a client may hold of the server: connections, time and header size. Without them
 * idle connections exhaust the file descriptors and a body trickled one byte at a time holds a
 * socket for as long as the client likes (Node's own request timeout is 300 s; Fastify's is none).
 */
export type HttpLimits = {
  /** Open connections beyond this are closed as soon as they are accepted. */
  maxConnections: number;
  /** A socket with no activity for this long is closed (ms), even mid-response; 0: none. */
  connectionTimeoutMs: number;
  /** The whole request (headers and body) must arrive within this (ms); else 408. */
  requestTimeoutMs: number;
  /**
   * The headers must arrive within this (ms; at most requestTimeoutMs); else 408. A connection that
   * sends nothing at all is closed after it too.
   */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (ms). */
  keepAliveTimeoutMs: number;
  /** Requests served on one connection before it is closed; 0: no limit. */
  maxRequestsPerSocket: number;
  /** Largest request head (request line and headers), in bytes; beyond it, 431. */
  maxHeaderSizeBytes: number;
};

export const defaultHttpLimits: HttpLimits = {
  maxConnections: 1000,
  connectionTimeoutMs: 120_000,
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  keepAliveTimeoutMs: 72_000,
  maxRequestsPerSocket: 1000,
  maxHeaderSizeBytes: 16_384,
};

/** Fastify's server options for those limits (the connection count is set on the server once made). */
export const fastifyLimitOptions = (limits: HttpLimits) => {
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return {
    connectionTimeout: limits.connectionTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    http: {
      headersTimeout,
      maxHeaderSize: limits.maxHeaderSizeBytes,
      // Node checks the two timeouts every 30 s by default, which would let a slow request run
      // that much over them.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeout / 2))),
    },
  };
};

const clientProblems: Record<string, { status: number; slug: string; title: string; detail: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    slug: 'request-timeout',
    title: 'Request timeout',
    detail: 'the request did not arrive in time',
  },
  HPE_HEADER_OVERFLOW: {
    status: 431,
    slug: 'headers-too-large',
    title: 'Request headers too large',
    detail: 'the request line and headers are larger than this server accepts',
  },
};
const malformed = {
  status: 400,
  slug: 'malformed-request',
  title: 'Malformed request',
  detail: 'the request could not be parsed as HTTP',
};

/**
 * What answers a request Node's parser refused or timed out before Fastify saw it (the server's
 * clientError event): a problem document written on the raw socket, which is then closed.
 */
export const clientErrorHandler =
  (logger: Pick<Logger, 'debug'>) =>
  (error: Error & { code?: string }, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const { slug, ...problem } = (error.code && clientProblems[error.code]) || malformed;
    logger.debug({ err: error, status: problem.status }, 'client error');
    if (socket.writable) {
      const body = JSON.stringify({ type: problemType(slug), ...problem });
      socket.end(
        `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
          `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          'Connection: close\r\n\r\n' +
          body,
      );
      // A client that never reads must not keep the socket either.
      setTimeout(() => socket.destroy(), 1000).unref();
    } else socket.destroy();
  };
