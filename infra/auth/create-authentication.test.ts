import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { type AuthConfig, chooseAuthentication, createAuthentication } from './create-authentication.js';
import { devSigningKeyFile, loadOrCreateDevSigningKey, signDevToken } from './dev-signing-key.js';
import {
  createTestIssuer,
  type JwksServer,
  serveJwks,
  TEST_AUDIENCE,
  TEST_ISSUER,
} from './testing/token-issuer.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'eventfold-auth-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The configuration as the app reads it from `env`, with DATA_DIR in a fresh folder. */
const configFrom = (env: Record<string, string>): AuthConfig => loadConfig({ DATA_DIR: tempDir(), ...env });

const capturingLogger = () => {
  const lines: { level: number; msg: string }[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
};

const WARN = 40;
const ERROR = 50;

describe('createAuthentication on the embedded default: the development key', () => {
  it('makes the key on first start (0600, in its own 0700 folder), reuses it after, and accepts the tokens it signs', async () => {
    const config = configFrom({});
    const first = capturingLogger();
    const auth = await createAuthentication(config, first.logger, { nodeEnv: 'development' });
    const file = devSigningKeyFile(config.DATA_DIR);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(config.DATA_DIR, 'auth')).mode & 0o777).toBe(0o700);
    const text = readFileSync(file, 'utf8');

    const key = await loadOrCreateDevSigningKey(config.DATA_DIR);
    expect(key.created).toBe(false);
    const second = await loadOrCreateDevSigningKey(config.DATA_DIR);
    expect(second.kid).toBe(key.kid);
    expect(readFileSync(file, 'utf8')).toBe(text);

    if (!('verify' in auth)) throw new Error('expected a verifier');
    const token = await signDevToken(key, {
      subject: 'alice',
      roles: ['admin'],
      rolesClaim: 'roles',
      ttlSeconds: 60,
    });
    expect(await auth.verify(token)).toEqual({ subject: 'alice', roles: ['admin'] });

    const warning = first.lines.find((line) => line.level === WARN);
    expect(warning?.msg).toMatch(/development key.*npm run token -- <subject> \[--role admin\]/);
  });

  it('makes one key when several starts race for it', async () => {
    const dir = tempDir();
    const keys = await Promise.all(Array.from({ length: 5 }, () => loadOrCreateDevSigningKey(dir)));
    expect(new Set(keys.map((key) => key.kid)).size).toBe(1);
    expect(keys.filter((key) => key.created)).toHaveLength(1);
  });

  it('refuses a key file it cannot read, saying which and what to do', async () => {
    const config = configFrom({});
    await loadOrCreateDevSigningKey(config.DATA_DIR);
    writeFileSync(devSigningKeyFile(config.DATA_DIR), '{"jwk": {"kty": "oct"}}');
    await expect(
      createAuthentication(config, capturingLogger().logger, { nodeEnv: 'development' }),
    ).rejects.toThrow(/dev-signing-key\.json is not a development signing key.*delete it/);
  });
});

describe('createAuthentication in production', () => {
  it.each([
    ['EVENTSTORE_URL is set', { EVENTSTORE_URL: 'esdb://localhost:2113?tls=false' }, 'development'],
    ['NODE_ENV=production', {}, 'production'],
  ])('refuses to start without AUTH_JWKS_URL when %s, and makes no key', async (reason, env, nodeEnv) => {
    const config = configFrom(env);
    const starting = createAuthentication(config, capturingLogger().logger, { nodeEnv });
    await expect(starting).rejects.toBeInstanceOf(ConfigError);
    await expect(starting).rejects.toThrow(
      new RegExp(`AUTH_JWKS_URL: required in production \\(${reason}\\).*AUTH_DISABLED=true`),
    );
    expect(() => statSync(devSigningKeyFile(config.DATA_DIR))).toThrow(/ENOENT/);
  });

  it('starts with AUTH_DISABLED=true, saying at error level that every request acts as an admin', async () => {
    const { logger, lines } = capturingLogger();
    const auth = await createAuthentication(configFrom({ AUTH_DISABLED: 'true' }), logger, {
      nodeEnv: 'production',
    });
    expect(auth).toEqual({ disabled: true });
    expect(lines.find((line) => line.level === ERROR)?.msg).toMatch(/AUTHENTICATION IS OFF.*admin/);
  });

  it('verifies against the provider JWKS with AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE', async () => {
    const issuer = await createTestIssuer();
    const server: JwksServer = await serveJwks(() => issuer.jwks);
    try {
      const auth = await createAuthentication(
        configFrom({
          AUTH_JWKS_URL: server.url.href,
          AUTH_ISSUER: TEST_ISSUER,
          AUTH_AUDIENCE: TEST_AUDIENCE,
          AUTH_ROLES_CLAIM: 'groups',
          EVENTSTORE_URL: 'esdb://localhost:2113?tls=false',
        }),
        capturingLogger().logger,
        { nodeEnv: 'production' },
      );
      if (!('verify' in auth)) throw new Error('expected a verifier');
      expect(await auth.verify(await issuer.sign({ sub: 'carol', groups: ['admin'] }))).toEqual({
        subject: 'carol',
        roles: ['admin'],
      });
    } finally {
      await server.close();
    }
  });
});

describe('chooseAuthentication: settings that cannot go together', () => {
  const jwks = 'https://login.example.com/.well-known/jwks.json';
  it.each([
    [{ AUTH_JWKS_URL: jwks, AUTH_AUDIENCE: 'api' }, /^AUTH_ISSUER: required with AUTH_JWKS_URL/],
    [{ AUTH_JWKS_URL: jwks, AUTH_ISSUER: 'https://login.example.com/' }, /^AUTH_AUDIENCE: required with/],
    [{ AUTH_JWKS_URL: jwks }, /^AUTH_ISSUER and AUTH_AUDIENCE: required with AUTH_JWKS_URL/],
    [
      { AUTH_JWKS_URL: jwks, AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a', AUTH_DISABLED: 'true' },
      /AUTH_DISABLED=true and AUTH_JWKS_URL contradict/,
    ],
    [{ AUTH_ISSUER: 'https://login.example.com/' }, /AUTH_ISSUER: set without AUTH_JWKS_URL/],
  ])('refuses %j', (env, message) => {
    expect(() => chooseAuthentication(configFrom(env), 'development')).toThrow(message);
  });

  it('reads AUTH_DISABLED as true or false only, and the JWKS URL as https:// (http:// on localhost only)', () => {
    expect(loadConfig({}).AUTH_DISABLED).toBe(false);
    expect(loadConfig({ AUTH_DISABLED: 'TRUE' }).AUTH_DISABLED).toBe(true);
    expect(loadConfig({ AUTH_DISABLED: 'false' }).AUTH_DISABLED).toBe(false);
    expect(() => loadConfig({ AUTH_DISABLED: 'yes' })).toThrow(/AUTH_DISABLED: must be true or false/);
    expect(loadConfig({ AUTH_JWKS_URL: 'http://localhost:8080/jwks' }).AUTH_JWKS_URL).toBeDefined();
    expect(() => loadConfig({ AUTH_JWKS_URL: 'http://idp.example.com/jwks' })).toThrow(
      /AUTH_JWKS_URL: must be an https:\/\/ URL/,
    );
  });
});
