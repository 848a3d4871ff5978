import type { FastifyReply } from 'fastify';
import type { ReadyResponse } from '../cache/ready-response.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Sends a ready response as it is: its bytes, neither parsed nor serialized (a string with a JSON
 * media type goes out untouched), and its ETag, so @fastify/etag (read-api.ts) hashes nothing and
 * answers a matching If-None-Match with 304, dropping the body unread.
 */
export const sendReady = (reply: FastifyReply, { body, etag }: ReadyResponse) =>
  reply.header('etag', etag).type(JSON_TYPE).send(body);
