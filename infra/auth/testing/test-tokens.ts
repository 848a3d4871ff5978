import { generateKeyPairSync, type JsonWebKey, randomUUID, sign } from 'node:crypto';
import type { Authentication } from '../authenticate.js';
import { createTokenVerifier } from '../token-verifier.js';

/**
 * Real tokens for tests: an ES256 key pair made once per test process, tokens signed with it, and
 * an Authentication that verifies them through the app's own verifier. Signing is synchronous
 * (node:crypto), so a test can build a header inline.
 */
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'eventfold-test';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const kid = randomUUID();
export const testJwks = {
  keys: [{ ...(publicKey.export({ format: 'jwk' }) as JsonWebKey), kid, alg: 'ES256' }],
};

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A signed token for `subject` with `roles`; `claims` override the defaults (exp, iss, aud…). */
export const testToken = (
  subject: string,
  roles: readonly string[] = [],
  claims: Record<string, unknown> = {},
) => {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url({ alg: 'ES256', typ: 'JWT', kid });
  const payload = base64url({
    sub: subject,
    roles,
    iss: ISSUER,
    aud: AUDIENCE,
    iat: now,
    exp: now + 3600,
    ...claims,
  });
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), {
    key: privateKey,
    dsaEncoding: 'ieee-p1363',
  }).toString('base64url');
  return `${header}.${payload}.${signature}`;
};

/** The Authorization header value for `subject`. */
export const bearer = (subject: string, roles: readonly string[] = []) =>
  `Bearer ${testToken(subject, roles)}`;

/** Headers of a request made by an admin, for tests that are not about who may do what. */
export const adminHeaders = () => ({ authorization: bearer('test-admin', ['admin']) });

export const testAuthentication: Authentication = {
  verify: createTokenVerifier({ keys: { jwks: testJwks }, issuer: ISSUER, audience: AUDIENCE }),
};
