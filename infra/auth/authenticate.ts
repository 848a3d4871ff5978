import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem } from '../http/problem-details.js';
import { ADMIN_ROLE, type Principal } from './principal.js';
import { InvalidTokenError, KeysUnavailableError, type TokenVerifier } from './token-verifier.js';

/**
 * How requests are authenticated: bearer tokens checked by a verifier, or not at all. Off is a
 * choice made out loud (AUTH_DISABLED, see create-authentication.ts): every request then acts as one admin.
 */
export type Authentication = { verify: TokenVerifier } | { disabled: true };

/** Who every request is when authentication is off: anyone may do anything, as before it existed. */
export const UNAUTHENTICATED_PRINCIPAL: Principal = { subject: 'anonymous', roles: [ADMIN_ROLE] };

const REALM = 'eventfold';

const unauthorized = (error: 'invalid_request' | 'invalid_token' | undefined, detail: string) =>
  new HttpProblem(401, 'unauthenticated', 'Authentication required', detail, {
    // RFC 6750 §3: no error code when the request carried no token at all.
    'www-authenticate':
      error === undefined
        ? `Bearer realm="${REALM}"`
        : `Bearer realm="${REALM}", error="${error}", error_description="${detail.replaceAll('"', "'")}"`,
  });

// The issuer's keys cannot be had: the token is not known to be bad, so no 401; retry shortly.
const RETRY_AFTER_SECONDS = '5';
const keysUnavailable = () =>
  new HttpProblem(
    503,
    'auth-unavailable',
    'Authentication unavailable',
    "the token issuer's keys cannot be fetched right now; retry later",
    { 'retry-after': RETRY_AFTER_SECONDS },
  );

const failures = new WeakMap<FastifyRequest, HttpProblem>();

/**
 * Two onRequest hooks. `identify` verifies the token and sets request.principal, keeping a failure
 * aside; `enforce` answers that failure with 401. Between them, hooks that key on the caller (rate
 * limits) see the verified subject, or no subject and fall back to the address, so failed attempts
 * are limited too. Public routes (config.public) are never refused.
 */
export const authenticationHooks = (authentication: Authentication) => {
  const identify = async (request: FastifyRequest) => {
    if ('disabled' in authentication) {
      request.principal = UNAUTHENTICATED_PRINCIPAL;
      return;
    }
    const header = request.headers.authorization;
    if (header === undefined) {
      failures.set(request, unauthorized(undefined, 'send a bearer token: Authorization: Bearer <token>'));
      return;
    }
    const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header);
    if (!match?.[1]) {
      failures.set(
        request,
        unauthorized('invalid_request', 'the Authorization header is not "Bearer <token>"'),
      );
      return;
    }
    try {
      request.principal = await authentication.verify(match[1]);
    } catch (error) {
      if (error instanceof KeysUnavailableError) {
        request.log.warn({ err: error }, 'authentication unavailable: the token keys cannot be fetched');
        failures.set(request, keysUnavailable());
        return;
      }
      if (!(error instanceof InvalidTokenError)) throw error;
      failures.set(request, unauthorized('invalid_token', error.message));
    }
  };
  const enforce = async (request: FastifyRequest, _reply: FastifyReply) => {
    if (request.routeOptions.config.public) return;
    const failure = failures.get(request);
    if (failure) throw failure;
    // A route that is not public and a request that reached it without a principal: refuse.
    if (!request.principal)
      throw unauthorized(undefined, 'send a bearer token: Authorization: Bearer <token>');
  };
  return { identify, enforce };
};

/** The principal of a request that passed `enforce`; a route that is public has none to ask for. */
export const principalOf = (request: FastifyRequest): Principal => {
  if (!request.principal) throw unauthorized(undefined, 'send a bearer token: Authorization: Bearer <token>');
  return request.principal;
};
