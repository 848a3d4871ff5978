import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE, ProblemDetails } from '../../infra/http/problem-details.js';

/** An error response for a route schema: documented with its media type and what it means. */
export const problemResponse = (description: string) => ({
  description,
  content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemDetails } },
});

// A null schema is how @fastify/swagger documents a response without a body.
export const notModifiedResponse = z.null().describe('Not Modified: the ETag in If-None-Match is current');
