import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  SignJWT,
} from 'jose';
import { z } from 'zod';

/**
 * The development signing key: on the embedded default there is no identity provider, so the app
 * makes its own key pair (ES256) under DATA_DIR at its first start, verifies tokens with its public
 * half, and `npm run token` signs tokens with its private half. It is for trying the API on one
 * machine, never for production: anyone who can read DATA_DIR can sign any token.
 */
export const DEV_ISSUER = 'eventfold-dev';
export const DEV_AUDIENCE = 'eventfold';
const ALGORITHM = 'ES256';

export const devSigningKeyFile = (dataDir: string) => join(dataDir, 'auth', 'dev-signing-key.json');

export type DevSigningKey = {
  file: string;
  kid: string;
  privateKey: CryptoKey;
  /** The public half, as the key set the app verifies against. */
  jwks: JSONWebKeySet;
  /** Made by this call (the file was absent). */
  created: boolean;
};

const StoredKey = z.object({
  jwk: z.looseObject({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: z.string().min(1),
    y: z.string().min(1),
    d: z.string().min(1),
    kid: z.string().min(1),
    alg: z.literal(ALGORITHM),
  }),
});

const ABOUT =
  "eventfold's development signing key (private): tokens signed with it are accepted by an eventfold " +
  'started on this DATA_DIR without AUTH_JWKS_URL. Delete it to make a new one at the next start; ' +
  'tokens signed with this one then stop verifying.';

const makeKeyText = async () => {
  const { privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return `${JSON.stringify({ about: ABOUT, jwk: { ...jwk, kid, alg: ALGORITHM, use: 'sig' } }, null, 2)}\n`;
};

/**
 * Writes a new key unless one is there. A complete temporary file (0600, synced) is hard-linked to
 * the key's name, which fails if it exists: a reader never sees half a key, and of two processes
 * making one at once (the app and `npm run token`), both end up with the first one written.
 */
const createIfAbsent = async (file: string) => {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${randomUUID()}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.chmod(0o600); // whatever the umask
    await handle.writeFile(await makeKeyText());
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary);
  }
};

const readKeyText = async (file: string) => {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
};

/** The development key under `dataDir`, made on first use. */
export const loadOrCreateDevSigningKey = async (dataDir: string): Promise<DevSigningKey> => {
  const file = devSigningKeyFile(dataDir);
  let text = await readKeyText(file);
  let created = false;
  if (text === undefined) {
    created = await createIfAbsent(file);
    text = await readFile(file, 'utf8');
  }
  let stored: z.infer<typeof StoredKey>;
  try {
    stored = StoredKey.parse(JSON.parse(text));
  } catch {
    throw new Error(
      `${file} is not a development signing key eventfold can read: delete it, and a new one is made ` +
        'at the next start (tokens signed with the old one then stop verifying)',
    );
  }
  const { d: _private, ...publicJwk } = stored.jwk;
  return {
    file,
    kid: stored.jwk.kid,
    privateKey: (await importJWK(stored.jwk, ALGORITHM)) as CryptoKey,
    jwks: { keys: [{ ...publicJwk, use: 'sig' } as JWK] },
    created,
  };
};

/** A token the app accepts when it verifies with the development key. */
export const signDevToken = (
  key: DevSigningKey,
  {
    subject,
    roles,
    rolesClaim,
    ttlSeconds,
    now = Date.now(),
  }: { subject: string; roles: readonly string[]; rolesClaim: string; ttlSeconds: number; now?: number },
) => {
  const issuedAt = Math.floor(now / 1000);
  return new SignJWT({ [rolesClaim]: [...roles] })
    .setProtectedHeader({ alg: ALGORITHM, kid: key.kid, typ: 'JWT' })
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setSubject(subject)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlSeconds)
    .sign(key.privateKey);
};
