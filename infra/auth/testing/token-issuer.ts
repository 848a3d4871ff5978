import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JSONWebKeySet, type JWTPayload, SignJWT } from 'jose';

/**
 * A made-up identity provider for tests: an ES256 key pair, tokens signed with it, and its public
 * key set, which `serveJwks` publishes over HTTP on a free local port as a provider's jwks_uri would.
 */
export const TEST_ISSUER = 'https://issuer.test';
export const TEST_AUDIENCE = 'eventfold-test';

export type TestIssuer = {
  kid: string;
  jwks: JSONWebKeySet;
  /** A token with iss, aud, sub, iat and exp (1 h) set as a valid one has them; `claims` override. */
  sign(claims?: JWTPayload, options?: { kid?: string; nowSeconds?: number }): Promise<string>;
};

export const createTestIssuer = async (kid = 'test-key-1'): Promise<TestIssuer> => {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] };
  return {
    kid,
    jwks,
    sign: (claims = {}, options = {}) => {
      const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
      return new SignJWT({
        iss: TEST_ISSUER,
        aud: TEST_AUDIENCE,
        sub: 'alice',
        iat: now,
        exp: now + 3600,
        ...claims,
      })
        .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? kid })
        .sign(privateKey);
    },
  };
};

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWT with header `header` and no valid signature: `alg: none` and its relatives. */
export const unsignedToken = (header: object, payload: object, signature = '') =>
  `${base64url(header)}.${base64url(payload)}.${signature}`;

export type JwksServer = { url: URL; requests: number; close(): Promise<void> };

/** Serves `jwks()` at /jwks.json on 127.0.0.1 (a free port); `status` other than 200 answers that. */
export const serveJwks = async (
  jwks: () => JSONWebKeySet,
  { status = () => 200 }: { status?: () => number } = {},
): Promise<JwksServer> => {
  const state = { requests: 0 };
  const server: Server = createServer((request, response) => {
    state.requests += 1;
    if (request.url !== '/jwks.json') return void response.writeHead(404).end();
    const code = status();
    if (code !== 200) return void response.writeHead(code).end('unavailable');
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/jwks.json`),
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
};

/** A URL on 127.0.0.1 where nothing listens (a port taken, then let go). */
export const unreachableJwksUrl = async () => {
  const server = await serveJwks(() => ({ keys: [] }));
  await server.close();
  return server.url;
};
