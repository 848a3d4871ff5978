import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import { createBoundedLru } from '../cache/bounded-lru.js';
import type { Principal } from './principal.js';

/**
 * Bearer tokens are JWTs, verified by jose: the signature against the issuer's keys (a JWKS URL in
 * production, a local key set on the embedded default and in tests), then `iss`, `aud`, `exp` and
 * `nbf`. Only asymmetric algorithms are accepted, so `alg: none` and an HS256 token signed with a
 * public key as its secret are refused before any key is looked at.
 */
export const ACCEPTED_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'RS384', 'RS512', 'PS256', 'EdDSA'];

export type TokenVerifierOptions = {
  /** Where the issuer publishes its keys (an OIDC provider's jwks_uri), or the key set itself. */
  keys: { jwksUrl: URL } | { jwks: JSONWebKeySet };
  issuer: string;
  audience: string;
  /** The claim that lists the subject's roles (an array of strings, or one space-separated string). */
  rolesClaim?: string;
  /** Leeway for clocks that disagree, in seconds. */
  clockToleranceSeconds?: number;
  /** Verified tokens kept, so a client that sends the same token again is not verified again; 0: none. */
  cacheSize?: number;
  /** Milliseconds since the epoch; for tests. */
  now?: () => number;
};

/** A token that does not verify; `reason` is safe to show to the caller (it names no key). */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
}

/**
 * The issuer's keys could not be had (its JWKS URL unreachable, slow, or answering something that is
 * not a key set): the token may well be good, so this is no 401 but a 503, retried later.
 */
export class KeysUnavailableError extends Error {
  override readonly name = 'KeysUnavailableError';
}

export type TokenVerifier = (token: string) => Promise<Principal>;

/** A verifier with its cache's counters (for tests and, later, metrics). */
export type CachingTokenVerifier = TokenVerifier & {
  readonly cache: { readonly size: number; readonly hits: number; readonly misses: number };
};

const reasonFor = (error: unknown): string => {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed)
    return `the token's ${error.claim} claim is not accepted`;
  if (error instanceof errors.JOSEAlgNotAllowed) return "the token's algorithm is not accepted";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the issuer matches the token';
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid)
    return 'the token is not a well-formed signed JWT';
  return 'the token could not be verified';
};

const rolesOf = (payload: JWTPayload, claim: string): string[] => {
  const value = payload[claim];
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  if (Array.isArray(value)) return value.filter((role): role is string => typeof role === 'string');
  return [];
};

// What the key lookup itself may answer about a token (no key for its kid, say); anything else out
// of a remote key set comes from fetching it.
const keyLookupErrors = [
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
  errors.JOSENotSupported,
  errors.JWKInvalid,
];

const remoteKeySet = (url: URL) => {
  const remote = createRemoteJWKSet(url);
  return async (...args: Parameters<typeof remote>) => {
    try {
      return await remote(...args);
    } catch (error) {
      if (keyLookupErrors.some((kind) => error instanceof kind)) throw error;
      throw new KeysUnavailableError(`the issuer's keys could not be fetched from ${url.href}`, {
        cause: error,
      });
    }
  };
};

/** The token length the cache is sized for, in characters: typical JWTs are 0.5 to 2 KB. */
const AVERAGE_TOKEN_LENGTH = 2048;

export const createTokenVerifier = ({
  keys,
  issuer,
  audience,
  rolesClaim = 'roles',
  clockToleranceSeconds = 5,
  cacheSize = 0,
  now = Date.now,
}: TokenVerifierOptions): CachingTokenVerifier => {
  const keySet = 'jwksUrl' in keys ? remoteKeySet(keys.jwksUrl) : createLocalJWKSet(keys.jwks);
  // Bounded by count and by total token length, so large tokens cannot make it hold more memory
  // than cacheSize typical ones would.
  const cache =
    cacheSize > 0
      ? createBoundedLru<{ principal: Principal; expiresAtMs: number; length: number }>({
          maxEntries: cacheSize,
          maxWeight: cacheSize * AVERAGE_TOKEN_LENGTH,
          weigh: (entry) => entry.length,
        })
      : undefined;
  const counters = { hits: 0, misses: 0 };

  const verify = async (token: string): Promise<Principal> => {
    const cached = cache?.get(token);
    // Valid until the token's exp and not a moment after, whatever the clock tolerance.
    if (cached && now() < cached.expiresAtMs) {
      counters.hits += 1;
      return cached.principal;
    }
    if (cached) cache?.delete(token);
    counters.misses += 1;

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keySet, {
        issuer,
        audience,
        algorithms: ACCEPTED_ALGORITHMS,
        clockTolerance: clockToleranceSeconds,
        requiredClaims: ['sub', 'exp'],
        currentDate: new Date(now()),
      }));
    } catch (error) {
      // An issuer we cannot reach is our fault, not the caller's: it is not an invalid token.
      if (error instanceof KeysUnavailableError) throw error;
      throw new InvalidTokenError(reasonFor(error), { cause: error });
    }
    const subject = payload.sub;
    if (subject === undefined || subject.length === 0 || subject.length > 200)
      throw new InvalidTokenError('the token has no usable sub claim');
    const principal: Principal = Object.freeze({
      subject,
      roles: Object.freeze(rolesOf(payload, rolesClaim)),
    });
    const expiresAtMs = (payload.exp as number) * 1000;
    if (cache && now() < expiresAtMs) cache.set(token, { principal, expiresAtMs, length: token.length });
    return principal;
  };

  return Object.assign(verify, {
    cache: {
      get size() {
        return cache?.size ?? 0;
      },
      get hits() {
        return counters.hits;
      },
      get misses() {
        return counters.misses;
      },
    },
  });
};
