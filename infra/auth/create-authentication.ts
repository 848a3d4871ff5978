import { type Config, ConfigError } from '../config.js';
import type { Logger } from '../logger.js';
import type { Authentication } from './authenticate.js';
import { DEV_AUDIENCE, DEV_ISSUER, loadOrCreateDevSigningKey } from './dev-signing-key.js';
import { createTokenVerifier } from './token-verifier.js';

export type AuthConfig = Pick<
  Config,
  | 'AUTH_JWKS_URL'
  | 'AUTH_ISSUER'
  | 'AUTH_AUDIENCE'
  | 'AUTH_ROLES_CLAIM'
  | 'AUTH_DISABLED'
  | 'AUTH_TOKEN_CACHE_SIZE'
  | 'DATA_DIR'
  | 'EVENTSTORE_URL'
>;

/** Which authentication the configuration asks for; see chooseAuthentication. */
export type AuthenticationChoice =
  | { kind: 'jwks'; jwksUrl: URL; issuer: string; audience: string }
  | { kind: 'dev-key' }
  | { kind: 'disabled'; production: boolean };

/**
 * Safe by default: a provider's JWKS when AUTH_JWKS_URL is set; the development key on the embedded
 * default (no EVENTSTORE_URL, NODE_ENV not production); anything else is production, which refuses
 * to start without a provider unless AUTH_DISABLED=true says out loud that nobody is checked.
 * Contradictory settings are refused rather than one of them silently ignored.
 */
export const chooseAuthentication = (
  config: AuthConfig,
  nodeEnv: string | undefined,
): AuthenticationChoice => {
  const production = config.EVENTSTORE_URL !== undefined || nodeEnv === 'production';
  if (config.AUTH_JWKS_URL !== undefined) {
    if (config.AUTH_DISABLED)
      throw new ConfigError('AUTH_DISABLED=true and AUTH_JWKS_URL contradict each other: unset one of them');
    const missing = (['AUTH_ISSUER', 'AUTH_AUDIENCE'] as const).filter((name) => config[name] === undefined);
    if (missing.length > 0)
      throw new ConfigError(
        `${missing.join(' and ')}: required with AUTH_JWKS_URL (the iss your provider puts in its tokens, and this API's audience there)`,
      );
    return {
      kind: 'jwks',
      jwksUrl: new URL(config.AUTH_JWKS_URL),
      issuer: config.AUTH_ISSUER as string,
      audience: config.AUTH_AUDIENCE as string,
    };
  }
  const stray = (['AUTH_ISSUER', 'AUTH_AUDIENCE'] as const).filter((name) => config[name] !== undefined);
  if (stray.length > 0)
    throw new ConfigError(`${stray.join(' and ')}: set without AUTH_JWKS_URL, where they would mean nothing`);
  if (config.AUTH_DISABLED) return { kind: 'disabled', production };
  if (production)
    throw new ConfigError(
      `AUTH_JWKS_URL: required in production (${config.EVENTSTORE_URL !== undefined ? 'EVENTSTORE_URL is set' : 'NODE_ENV=production'}): ` +
        "set AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE to your OIDC provider's, or AUTH_DISABLED=true " +
        'to run without authentication (every request then acts as an admin)',
    );
  return { kind: 'dev-key' };
};

/** What the app checks requests with, chosen at start-up; throws a ConfigError naming the variable. */
export const createAuthentication = async (
  config: AuthConfig,
  logger: Logger,
  { nodeEnv = process.env.NODE_ENV }: { nodeEnv?: string | undefined } = {},
): Promise<Authentication> => {
  const choice = chooseAuthentication(config, nodeEnv);
  const common = { rolesClaim: config.AUTH_ROLES_CLAIM, cacheSize: config.AUTH_TOKEN_CACHE_SIZE };
  switch (choice.kind) {
    case 'jwks':
      logger.info(
        { jwksUrl: choice.jwksUrl.href, issuer: choice.issuer, audience: choice.audience },
        'authentication: bearer tokens verified against the provider JWKS',
      );
      return {
        verify: createTokenVerifier({
          keys: { jwksUrl: choice.jwksUrl },
          issuer: choice.issuer,
          audience: choice.audience,
          ...common,
        }),
      };
    case 'dev-key': {
      const key = await loadOrCreateDevSigningKey(config.DATA_DIR);
      logger.warn(
        { keyFile: key.file, created: key.created },
        'authentication: tokens are verified with a development key, not for production; ' +
          'get one with: npm run token -- <subject> [--role admin]',
      );
      return {
        verify: createTokenVerifier({
          keys: { jwks: key.jwks },
          issuer: DEV_ISSUER,
          audience: DEV_AUDIENCE,
          ...common,
        }),
      };
    }
    case 'disabled':
      logger.error(
        { production: choice.production },
        'AUTHENTICATION IS OFF (AUTH_DISABLED=true): nobody is checked, every request acts as an admin',
      );
      return { disabled: true };
  }
};
