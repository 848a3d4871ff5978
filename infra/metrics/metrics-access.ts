import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { isAdmin } from '../auth/principal.js';
import { HttpProblem } from '../http/problem-details.js';

/**
 * Who may scrape GET /metrics. With a token (METRICS_TOKEN), only a request that sends it as a
 * bearer token, which is what Prometheus' `authorization: { credentials: … }` scrape option sends;
 * without one, only an admin's verified token. The route is public for the authentication hook,
 * which would refuse the static token as a JWT that does not verify: this hook decides instead.
 */
export type MetricsAccess = { token?: string };

// Both sides hashed to one length first: timingSafeEqual needs equal lengths, and comparing the
// raw strings' lengths would tell how long the token is.
const digest = (text: string) => createHash('sha256').update(text).digest();

const unauthorized = (detail: string) =>
  new HttpProblem(401, 'unauthenticated', 'Authentication required', detail, {
    'www-authenticate': 'Bearer realm="eventfold"',
  });

export const metricsAccessHook = ({ token }: MetricsAccess) => {
  const expected = token === undefined ? undefined : digest(token);
  return async (request: FastifyRequest) => {
    if (expected) {
      const sent = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')?.[1];
      if (sent === undefined)
        throw unauthorized('send the metrics token: Authorization: Bearer <METRICS_TOKEN>');
      if (!timingSafeEqual(digest(sent), expected)) throw unauthorized('the metrics token does not match');
      return;
    }
    if (!request.principal)
      throw unauthorized('send an admin token: Authorization: Bearer <token>, or configure METRICS_TOKEN');
    if (!isAdmin(request.principal))
      throw new HttpProblem(
        403,
        'forbidden',
        'Forbidden',
        'the metrics are for admins, or for METRICS_TOKEN',
      );
  };
};
