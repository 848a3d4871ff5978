import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { isDomainError } from '../../domain/shared/domain-error.js';
import { UnknownEventVersionError } from '../../domain/shared/event-versions.js';
import { type Authentication, authenticationHooks } from '../auth/authenticate.js';
import { isCorruptEvent, isEventStoreUnavailable } from '../event-store/event-store.js';
import type { Logger } from '../logger.js';
import { CORRELATION_HEADER, correlationIdFor } from './correlation.js';
import { HttpProblem, PROBLEM_CONTENT_TYPE, type ProblemDetails, problemType } from './problem-details.js';
import { type RateLimits, rateLimitPlugin } from './rate-limit.js';
import {
  defaultRequestLog,
  RequestLogController,
  type RequestLogOptions,
  requestLogHook,
} from './request-log.js';
import {
  clientErrorHandler,
  defaultHttpLimits,
  fastifyLimitOptions,
  type HttpLimits,
} from './server-limits.js';

export type HttpApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  Logger,
  ZodTypeProvider
>;

const domainStatus = { not_found: 404, conflict: 409, rejected: 422, forbidden: 403 } as const;

// Fastify's own 4xx errors, by code, mapped to our stable problem types.
const fastifyProblems: Record<string, { status: number; slug: string; title: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, slug: 'body-too-large', title: 'Request body too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    slug: 'unsupported-media-type',
    title: 'Request body must be application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, slug: 'malformed-request', title: 'Malformed request' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    slug: 'malformed-json',
    title: 'Request body is not valid JSON',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    slug: 'malformed-json',
    title: 'Request body is not valid JSON',
  },
  // Raised before routing, through the frameworkErrors option below.
  FST_ERR_BAD_URL: { status: 400, slug: 'malformed-url', title: 'The URL is not validly encoded' },
  FST_ERR_MAX_PARAM_LENGTH: {
    status: 414,
    slug: 'path-parameter-too-long',
    title: 'A path parameter is too long',
  },
};

const toProblem = (
  error: unknown,
): { problem: Omit<ProblemDetails, 'correlationId'>; headers?: Record<string, string> } => {
  if (error instanceof HttpProblem)
    return {
      problem: {
        type: problemType(error.slug),
        title: error.title,
        status: error.status,
        detail: error.detail,
      },
      headers: error.headers,
    };
  if (isDomainError(error))
    return {
      problem: {
        type: problemType(error.code.replaceAll('_', '-')),
        title: error.code.replaceAll('_', ' '),
        status: domainStatus[error.kind],
        detail: error.message,
      },
    };
  if (hasZodFastifySchemaValidationErrors(error))
    return {
      problem: {
        type: problemType('invalid-request'),
        title: 'Request does not match the schema',
        status: 400,
        detail: `invalid ${error.validationContext ?? 'request'}`,
        errors: error.validation.map((issue) => ({
          path: [error.validationContext, ...String(issue.instancePath).split('/').filter(Boolean)]
            .filter(Boolean)
            .join('.'),
          message: issue.message ?? 'invalid',
        })),
      },
    };
  // Transient: the caller retries later, with the same Idempotency-Key to be safe.
  if (isEventStoreUnavailable(error))
    return {
      problem: {
        type: problemType('event-store-unavailable'),
        title: 'Event store unavailable',
        status: 503,
        detail: 'the event store could not be reached; retry later (with the same Idempotency-Key)',
      },
      headers: { 'retry-after': '1' },
    };
  // The store holds a damaged event for this stream: no decision was made on it, and retrying
  // will not help until someone restores it. The stream is named: it is the caller's own resource.
  if (isCorruptEvent(error))
    return {
      problem: {
        type: problemType('stored-event-damaged'),
        title: 'Stored event damaged',
        status: 500,
        detail: `stream ${error.streamId}: the stored event at revision ${error.revision} is damaged (${error.reason}), so the command was not decided and nothing was changed; retrying will not help until it is restored`,
      },
    };
  // Newer code wrote an event of this stream: deciding on it as an older shape could be wrong.
  if (error instanceof UnknownEventVersionError)
    return {
      problem: {
        type: problemType('stored-event-version-unknown'),
        title: 'Stored event of an unknown version',
        status: 500,
        detail: `${error.message}; nothing was decided or changed`,
      },
    };
  const fastifyError = error as Partial<FastifyError>;
  const known = fastifyError.code ? fastifyProblems[fastifyError.code] : undefined;
  if (known) {
    const { slug, ...rest } = known;
    return { problem: { type: problemType(slug), ...rest, detail: fastifyError.message } };
  }
  // Any other error that carries a 4xx (a malformed JSON body, prototype poisoning…) is the caller's.
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500)
    return {
      problem: {
        type: problemType('malformed-request'),
        title: 'Malformed request',
        status,
        detail: fastifyError.message,
      },
    };
  return { problem: { type: problemType('internal'), title: 'Internal error', status: 500 } };
};

/**
 * The Fastify instance shared by the write and read APIs: zod schemas for validation,
 * serialization and OpenAPI; correlation ids; and one error handler that renders every error as
 * problem+json.
 */
/** Every error, from a route, a hook, Fastify itself or the router, answered as a problem document. */
const renderProblem = (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
  const { problem, headers } = toProblem(error);
  // A problem we chose to answer with (a 503 on a consistency timeout, say) is not a failure.
  if (isEventStoreUnavailable(error)) request.log.warn({ err: error }, 'event store unavailable');
  else if (isCorruptEvent(error))
    request.log.error(
      { err: error, streamId: error.streamId, revision: error.revision, position: String(error.position) },
      'stored event damaged: restore it (npm run events -- verify lists every damaged event)',
    );
  else if (problem.status >= 500 && !(error instanceof HttpProblem))
    request.log.error({ err: error }, 'request failed');
  else request.log.info({ problemType: problem.type, detail: problem.detail }, 'request rejected');
  return reply
    .code(problem.status)
    .header(CORRELATION_HEADER, request.id)
    .headers(headers ?? {})
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify({ ...problem, instance: request.url, correlationId: request.id }));
};

export const createHttpApp = (options: {
  logger: Logger;
  bodyLimit: number;
  /** The groups the routes' `tags` name, described in /openapi.json (each module lists its own). */
  openApiTags?: readonly { name: string; description: string }[];
  /** Connection, time and header limits (server-limits.ts); each one unset takes its default. */
  limits?: Partial<HttpLimits>;
  /** Origins browsers may call this API from (CORS_ORIGINS); none: no CORS headers at all. */
  corsOrigins?: readonly string[];
  /** Bearer tokens on every route not marked `config: { public: true }` (infra/auth/). */
  auth: Authentication;
  /** Requests per caller and per address (rate-limit.ts); absent: not limited. */
  rateLimit?: RateLimits;
  /** Which requests get a line at info (request-log.ts); every one does at debug. */
  requestLog?: RequestLogOptions;
}): HttpApp => {
  const limits = { ...defaultHttpLimits, ...options.limits };
  const app = Fastify({
    ...fastifyLimitOptions(limits),
    // Requests the parser refuses or that time out (400, 408, 431): problem documents too.
    clientErrorHandler: clientErrorHandler(options.logger),
    // A URL the router cannot decode, or a path parameter over its length limit: without this,
    // Fastify answers them in its own JSON, before any hook or error handler.
    frameworkErrors: renderProblem,
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit,
    genReqId: correlationIdFor,
    // One line per request, and at info only for some (request-log.ts, its hook added below).
    logController: new RequestLogController({ requestIdLogLabel: 'correlationId' }),
    // Reject rather than strip `__proto__` and `constructor.prototype` keys in JSON bodies.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Requests that arrive while the server closes get our own 503 problem (below), not Fastify's
    // plain JSON one.
    return503OnClosing: false,
  }).withTypeProvider<ZodTypeProvider>();
  app.server.maxConnections = limits.maxConnections;

  app.addHook('onResponse', requestLogHook(options.requestLog ?? defaultRequestLog));

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Only JSON bodies are accepted: without this, a text/plain body would reach validation and
  // answer 400 instead of the 415 it deserves.
  app.removeContentTypeParser(['text/plain']);

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header(CORRELATION_HEADER, request.id);
    if (closing)
      throw new HttpProblem(503, 'shutting-down', 'Shutting down', 'this instance is stopping; retry', {
        'retry-after': '1',
        connection: 'close',
      });
  });
  const { identify, enforce } = authenticationHooks(options.auth);
  app.addHook('onRequest', identify);
  // Hooks are added in the order of these calls, a plugin's when it loads: the limits count by the
  // subject identify found, or by address, before enforce refuses, so failed attempts count too.
  if (options.rateLimit)
    app.register(rateLimitPlugin(options.rateLimit, { perCaller: !('disabled' in options.auth) }));
  app.addHook('onRequest', enforce);

  // Security headers on every answer (nosniff, frame-ancestors, HSTS, a CSP of 'self' that the
  // Swagger UI at /docs, served from this origin, works under). Without upgrade-insecure-requests,
  // which would send /docs's scripts to https:// when the server is reached over plain http.
  app.register(fastifyHelmet, {
    global: true,
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
  // CORS is off unless origins are listed: a browser on another origin then reads nothing.
  if (options.corsOrigins && options.corsOrigins.length > 0)
    app.register(fastifyCors, {
      origin: [...options.corsOrigins],
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      exposedHeaders: [
        CORRELATION_HEADER,
        'etag',
        'location',
        'retry-after',
        'idempotent-replayed',
        'preference-applied',
        'ratelimit-limit',
        'ratelimit-remaining',
        'ratelimit-reset',
      ],
      maxAge: 600,
    });

  app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'eventfold',
        description: 'Event-sourced CQRS service: commands append events; queries read projections.',
        version: '0.1.0',
      },
      ...(options.openApiTags && { tags: [...options.openApiTags] }),
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  app.setErrorHandler(renderProblem);

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type(PROBLEM_CONTENT_TYPE)
      .send(
        JSON.stringify({
          type: problemType('route-not-found'),
          title: 'No such route',
          status: 404,
          detail: `${request.method} ${request.url.split('?')[0]} is not a route of this service`,
          instance: request.url,
          correlationId: request.id,
        }),
      ),
  );

  return app;
};
