import { z } from 'zod';

/**
 * RFC 9457 problem details. Every error this service returns has this shape and the
 * `application/problem+json` media type, and each kind of error has a stable `type` URI that
 * clients may switch on; `title` is for humans and may change.
 */
export const ProblemDetails = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    correlationId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'ProblemDetails' });
export type ProblemDetails = z.infer<typeof ProblemDetails>;

/** The `response` entries of a route schema for the error statuses it may answer with. */
export const problemResponses = <const Status extends number>(...statuses: Status[]) =>
  Object.fromEntries(statuses.map((status) => [status, ProblemDetails])) as Record<
    Status,
    typeof ProblemDetails
  >;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const problemType = (slug: string) => `urn:eventfold:problem:${slug}`;

/** An error the handler means to answer with: thrown anywhere in a request, rendered by the error handler. */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';

  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}
