import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE, ProblemDetails, problemType } from '../../infra/http/problem-details.js';

/** An error response for a route schema: documented with its media type and what it means. */
export const problemResponse = (description: string) => ({
  description,
  content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemDetails } },
});

// A null schema is how @fastify/swagger documents a response without a body.
export const notModifiedResponse = z.null().describe('Not Modified: the ETag in If-None-Match is current');

/** An expected outcome answered with a problem document (a 404, say): a value, not an Error. */
export type ExpectedProblem = { readonly status: number; readonly type: string; readonly title: string };

export const expectedProblem = (status: number, slug: string, title: string): ExpectedProblem => ({
  status,
  type: problemType(slug),
  title,
});

/**
 * Answers `problem` as the error handler answers an HttpProblem (the same document, media type and
 * headers), without building an Error and its stack, nor going through the error path: for the
 * outcomes a route expects, like an id nobody can read.
 */
export const sendProblem = (
  request: FastifyRequest,
  reply: FastifyReply,
  { status, type, title }: ExpectedProblem,
  detail: string,
) => {
  request.log.debug({ problemType: type, detail }, 'request rejected');
  return reply
    .code(status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify({ type, title, status, detail, instance: request.url, correlationId: request.id }));
};
