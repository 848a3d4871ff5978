import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuthentication } from '../infra/auth/create-authentication.js';
import { devSigningKeyFile } from '../infra/auth/dev-signing-key.js';
import { loadConfig } from '../infra/config.js';
import { createLogger } from '../infra/logger.js';

const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'eventfold-token-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
const newDataDir = () => join(dir, `data-${++count}`);

// The test's own environment must not choose for the script (an AUTH_JWKS_URL, an EVENTSTORE_URL).
const baseEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !key.startsWith('AUTH_') && key !== 'EVENTSTORE_URL'),
);

const run = async (command: string, args: string[], env: Record<string, string>) => {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...baseEnv, NODE_ENV: 'development', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number];
  return { code, stdout, stderr };
};

/** `npx tsx scripts/token.ts <args>`, as a developer runs it. */
const token = (args: string[], env: Record<string, string>) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], env);

/** The app's own verifier on that DATA_DIR. */
const appVerifier = async (dataDir: string) => {
  const auth = await createAuthentication(
    loadConfig({ DATA_DIR: dataDir }),
    createLogger({ level: 'silent' }),
    {
      nodeEnv: 'development',
    },
  );
  if (!('verify' in auth)) throw new Error('expected a verifier');
  return auth.verify;
};

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

describe('npm run token', () => {
  it('prints only a token on stdout, which the app accepts with its subject and roles', async () => {
    const dataDir = newDataDir();
    const first = await token(['alice', '--role', 'admin', '--role', 'auditor'], { DATA_DIR: dataDir });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`made a development signing key: ${devSigningKeyFile(dataDir)}`);
    expect(first.stdout).toMatch(/\n$/);
    const text = first.stdout.trim();
    expect(text).toMatch(JWT);

    const verify = await appVerifier(dataDir);
    expect(await verify(text)).toEqual({ subject: 'alice', roles: ['admin', 'auditor'] });
    const claims = decodeJwt(text);
    expect(claims).toMatchObject({ iss: 'eventfold-dev', aud: 'eventfold', sub: 'alice' });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(12 * 3600);
    expect(decodeProtectedHeader(text).alg).toBe('ES256');

    // The next run signs with the same key, which the app made or read: nothing more on stderr.
    const second = await token(['bob', '--ttl', '90s'], { DATA_DIR: dataDir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toBe('');
    expect(await verify(second.stdout.trim())).toEqual({ subject: 'bob', roles: [] });
    const secondClaims = decodeJwt(second.stdout.trim());
    expect((secondClaims.exp ?? 0) - (secondClaims.iat ?? 0)).toBe(90);
  });

  it('works as TOKEN=$(npm run -s token -- <subject>): npm adds nothing to stdout', async () => {
    const dataDir = newDataDir();
    const result = await run('npm', ['run', '-s', 'token', '--', 'carol'], { DATA_DIR: dataDir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toMatch(JWT);
    expect((await (await appVerifier(dataDir))(result.stdout.trim())).subject).toBe('carol');
  });

  it.each([
    [[], {}, /give one subject/],
    [['a', 'b'], {}, /give one subject/],
    [['alice', '--ttl', '0h'], {}, /--ttl 0h: give a duration/],
    [['alice', '--ttl', '31d'], {}, /at most 30d/],
    [['alice', '--role', 'two words'], {}, /without spaces/],
    [['alice', '--colour'], {}, /Unknown option '--colour'/],
    [
      ['alice'],
      {
        AUTH_JWKS_URL: 'https://login.example.com/jwks',
        AUTH_ISSUER: 'https://login.example.com/',
        AUTH_AUDIENCE: 'api',
      },
      /AUTH_JWKS_URL is set.*get one from it/,
    ],
    [['alice'], { NODE_ENV: 'production' }, /would not start.*AUTH_JWKS_URL: required in production/],
    [['alice'], { AUTH_DISABLED: 'true' }, /AUTH_DISABLED=true: the app checks no token/],
  ])('refuses %j with %j, exit 2, nothing on stdout and no key made', async (args, env, message) => {
    const dataDir = newDataDir();
    const result = await token(args, { DATA_DIR: dataDir, ...env });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(existsSync(devSigningKeyFile(dataDir))).toBe(false);
  });
});
