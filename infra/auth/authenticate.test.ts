import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpApp } from '../http/create-http-app.js';
import { PROBLEM_CONTENT_TYPE, problemType } from '../http/problem-details.js';
import { createLogger } from '../logger.js';
import { type Authentication, principalOf, UNAUTHENTICATED_PRINCIPAL } from './authenticate.js';
import {
  createTestIssuer,
  type JwksServer,
  serveJwks,
  TEST_AUDIENCE,
  TEST_ISSUER,
  type TestIssuer,
  unreachableJwksUrl,
  unsignedToken,
} from './testing/token-issuer.js';
import { createTokenVerifier } from './token-verifier.js';

/**
 * Authentication as a client meets it: an app built by createHttpApp with a verifier against a JWKS
 * served over HTTP, a route that needs a token and a public one that does not.
 */
let issuer: TestIssuer;
let server: JwksServer;
const apps: HttpApp[] = [];

const appWith = async (auth: Authentication) => {
  const app = createHttpApp({ logger: createLogger({ level: 'silent' }), bodyLimit: 1024, auth });
  app.get('/whoami', async (request) => principalOf(request));
  app.get('/open', { config: { public: true } }, async (request) => ({
    principal: request.principal ?? null,
  }));
  await app.ready();
  apps.push(app);
  return app;
};

const verifierFor = (jwksUrl: URL) =>
  createTokenVerifier({ keys: { jwksUrl }, issuer: TEST_ISSUER, audience: TEST_AUDIENCE, cacheSize: 100 });

beforeAll(async () => {
  issuer = await createTestIssuer();
  server = await serveJwks(() => issuer.jwks);
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await server.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const expectUnauthenticated = (
  response: Awaited<ReturnType<HttpApp['inject']>>,
  error: 'invalid_request' | 'invalid_token' | undefined,
) => {
  expect(response.statusCode).toBe(401);
  expect(response.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
  expect(response.json()).toMatchObject({ type: problemType('unauthenticated'), status: 401 });
  const challenge = response.headers['www-authenticate'];
  expect(challenge).toMatch(/^Bearer realm="eventfold"/);
  if (error === undefined) expect(challenge).not.toMatch(/error=/);
  else expect(challenge).toContain(`error="${error}"`);
};

describe('authentication over HTTP', () => {
  it('gives a route the verified principal, with its roles', async () => {
    const app = await appWith({ verify: verifierFor(server.url) });
    const response = await app.inject({
      url: '/whoami',
      headers: bearer(await issuer.sign({ sub: 'alice', roles: ['admin'] })),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ subject: 'alice', roles: ['admin'] });
  });

  it.each([
    ['expired', () => issuer.sign({ exp: Math.floor(Date.now() / 1000) - 60 })],
    ['from the wrong issuer', () => issuer.sign({ iss: 'https://elsewhere.test' })],
    ['for the wrong audience', () => issuer.sign({ aud: 'another-api' })],
    ['signed by another key', async () => (await createTestIssuer(issuer.kid)).sign()],
    [
      'with alg none',
      async () => unsignedToken({ alg: 'none', typ: 'JWT' }, { sub: 'alice', iss: TEST_ISSUER }),
    ],
    [
      'signed with HS256',
      () =>
        new SignJWT({ sub: 'alice', iss: TEST_ISSUER, aud: TEST_AUDIENCE })
          .setProtectedHeader({ alg: 'HS256' })
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode('a shared secret of thirty-two bytes')),
    ],
  ])('answers a token %s with a 401 problem, invalid_token', async (_name, token) => {
    const app = await appWith({ verify: verifierFor(server.url) });
    const response = await app.inject({ url: '/whoami', headers: bearer(await token()) });
    expectUnauthenticated(response, 'invalid_token');
  });

  it('answers no Authorization header with a 401 without an error code, and a malformed one with invalid_request', async () => {
    const app = await appWith({ verify: verifierFor(server.url) });
    expectUnauthenticated(await app.inject({ url: '/whoami' }), undefined);
    for (const authorization of ['Basic YWxpY2U6c2VjcmV0', 'Bearer', 'Bearer a b', 'token'])
      expectUnauthenticated(
        await app.inject({ url: '/whoami', headers: { authorization } }),
        'invalid_request',
      );
  });

  it('lets anyone call a public route, with or without a token', async () => {
    const app = await appWith({ verify: verifierFor(server.url) });
    expect((await app.inject({ url: '/open' })).json()).toEqual({ principal: null });
    const withBadToken = await app.inject({ url: '/open', headers: bearer('not-a-token') });
    expect(withBadToken.statusCode).toBe(200);
  });

  it('answers 503 auth-unavailable with Retry-After, not 401 or 500, when the JWKS cannot be fetched', async () => {
    const app = await appWith({ verify: verifierFor(await unreachableJwksUrl()) });
    const response = await app.inject({ url: '/whoami', headers: bearer(await issuer.sign()) });
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
    expect(response.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
    expect(response.json()).toMatchObject({ type: problemType('auth-unavailable'), status: 503 });
    // The probes and other public routes do not depend on the provider.
    expect((await app.inject({ url: '/open', headers: bearer(await issuer.sign()) })).statusCode).toBe(200);
  });

  it('with authentication off, every request acts as the unauthenticated admin', async () => {
    const app = await appWith({ disabled: true });
    const response = await app.inject({ url: '/whoami' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(UNAUTHENTICATED_PRINCIPAL);
  });
});
