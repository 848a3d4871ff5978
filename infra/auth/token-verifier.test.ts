import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { createTokenVerifier, InvalidTokenError, KeysUnavailableError } from './token-verifier.js';

let issuer: TestIssuer;
let other: TestIssuer;
let server: JwksServer;
beforeAll(async () => {
  issuer = await createTestIssuer();
  // Another key under the same kid: its tokens reach the signature check and fail there.
  other = await createTestIssuer(issuer.kid);
  server = await serveJwks(() => issuer.jwks);
});
afterAll(() => server.close());

const remote = (overrides = {}) =>
  createTokenVerifier({
    keys: { jwksUrl: server.url },
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    ...overrides,
  });

describe('token verifier, against a JWKS served over HTTP', () => {
  it('takes a valid token: its subject and roles, from an array or a space-separated string', async () => {
    const verify = remote();
    expect(await verify(await issuer.sign({ sub: 'alice', roles: ['admin', 'auditor'] }))).toEqual({
      subject: 'alice',
      roles: ['admin', 'auditor'],
    });
    expect(await verify(await issuer.sign({ sub: 'bob', scope: 'a b' }))).toEqual({
      subject: 'bob',
      roles: [],
    });
    expect(await remote({ rolesClaim: 'scope' })(await issuer.sign({ sub: 'bob', scope: 'a  b' }))).toEqual({
      subject: 'bob',
      roles: ['a', 'b'],
    });
  });

  it.each([
    ['expired', async () => issuer.sign({ exp: Math.floor(Date.now() / 1000) - 60 }), /expired/],
    ['wrong issuer', async () => issuer.sign({ iss: 'https://elsewhere.test' }), /iss claim/],
    ['wrong audience', async () => issuer.sign({ aud: 'another-api' }), /aud claim/],
    ['signed by another key', async () => other.sign(), /signature/],
    ['with an unknown kid', async () => issuer.sign({}, { kid: 'nobody' }), /no key/],
    ['without sub', async () => issuer.sign({ sub: undefined }), /sub/],
    ['alg none', async () => unsignedToken({ alg: 'none', typ: 'JWT' }, { sub: 'alice' }), /algorithm/],
    [
      'HS256',
      async () =>
        new SignJWT({ sub: 'alice', iss: TEST_ISSUER, aud: TEST_AUDIENCE })
          .setProtectedHeader({ alg: 'HS256', kid: issuer.kid })
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode(JSON.stringify(issuer.jwks.keys[0]))),
      /algorithm/,
    ],
    ['not a JWT', async () => 'abc.def', /well-formed/],
  ])('refuses a token %s, saying why', async (_name, token, reason) => {
    const error = await remote()(await token()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect((error as Error).message).toMatch(reason);
  });

  it('answers KeysUnavailableError, not InvalidTokenError, when the JWKS cannot be fetched', async () => {
    const token = await issuer.sign();
    const down = createTokenVerifier({
      keys: { jwksUrl: await unreachableJwksUrl() },
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
    });
    await expect(down(token)).rejects.toBeInstanceOf(KeysUnavailableError);
    const failing = await serveJwks(() => issuer.jwks, { status: () => 500 });
    try {
      const verify = createTokenVerifier({
        keys: { jwksUrl: failing.url },
        issuer: TEST_ISSUER,
        audience: TEST_AUDIENCE,
      });
      await expect(verify(token)).rejects.toBeInstanceOf(KeysUnavailableError);
      expect(failing.requests).toBe(1);
    } finally {
      await failing.close();
    }
  });
});

describe('token verifier: the verified-token cache', () => {
  const START = Date.UTC(2030, 0, 1) / 1000;
  const clock = () => {
    const state = { seconds: START };
    return {
      now: () => state.seconds * 1000,
      set: (seconds: number) => {
        state.seconds = seconds;
      },
    };
  };
  const local = (now: () => number, cacheSize: number) =>
    createTokenVerifier({
      keys: { jwks: issuer.jwks },
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      cacheSize,
      now,
      clockToleranceSeconds: 5,
    });

  it('answers a token seen before from the cache, and stops the moment it expires, tolerance or not', async () => {
    const time = clock();
    const verify = local(time.now, 10);
    const token = await issuer.sign({ exp: START + 60 }, { nowSeconds: START });
    expect(await verify(token)).toEqual({ subject: 'alice', roles: [] });
    expect(await verify(token)).toEqual({ subject: 'alice', roles: [] });
    expect(verify.cache).toMatchObject({ size: 1, hits: 1, misses: 1 });

    time.set(START + 59);
    await verify(token);
    expect(verify.cache.hits).toBe(2);
    // At exp the cache lets go; jose still accepts it within the clock tolerance, but it is not
    // cached again past its exp.
    time.set(START + 60);
    await verify(token);
    expect(verify.cache).toMatchObject({ size: 0, hits: 2, misses: 2 });
    time.set(START + 66);
    await expect(verify(token)).rejects.toThrow(/expired/);
    expect(verify.cache.size).toBe(0);
  });

  it('does not cache a token that fails', async () => {
    const time = clock();
    const verify = local(time.now, 10);
    const bad = await other.sign({ exp: START + 60 }, { nowSeconds: START });
    await expect(verify(bad)).rejects.toThrow(InvalidTokenError);
    await expect(verify(bad)).rejects.toThrow(InvalidTokenError);
    expect(verify.cache).toMatchObject({ size: 0, hits: 0, misses: 2 });
  });

  it('holds at most cacheSize tokens, the least recently used let go first; 0 caches nothing', async () => {
    const time = clock();
    const verify = local(time.now, 3);
    const tokens = await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map((sub) => issuer.sign({ sub, exp: START + 600 }, { nowSeconds: START })),
    );
    const [a, b, c, d, e] = tokens as [string, string, string, string, string];
    for (const token of [a, b, c]) await verify(token);
    await verify(a); // a is now the most recently used; b the least
    await verify(d);
    await verify(e);
    expect(verify.cache.size).toBe(3);
    const hitsBefore = verify.cache.hits;
    expect((await verify(a)).subject).toBe('a');
    expect(verify.cache.hits).toBe(hitsBefore + 1);
    await verify(b); // evicted: verified again
    expect(verify.cache.hits).toBe(hitsBefore + 1);
    expect(verify.cache.size).toBe(3);

    const uncached = local(time.now, 0);
    await uncached(a);
    await uncached(a);
    expect(uncached.cache).toMatchObject({ size: 0, hits: 0, misses: 2 });
  });

  it('bounds the memory too: tokens much longer than usual take the room of several', async () => {
    const time = clock();
    const verify = local(time.now, 4);
    const padding = 'x'.repeat(3000);
    for (const sub of ['a', 'b', 'c', 'd'])
      await verify(await issuer.sign({ sub, exp: START + 600, padding }, { nowSeconds: START }));
    // 4 entries of about 4 KB each exceed 4 × 2 KB: no more than two fit.
    expect(verify.cache.size).toBeLessThanOrEqual(2);
    expect(verify.cache.size).toBeGreaterThan(0);
  });
});
