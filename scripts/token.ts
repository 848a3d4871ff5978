import { parseArgs } from 'node:util';
import { chooseAuthentication } from '../infra/auth/create-authentication.js';
import { loadOrCreateDevSigningKey, signDevToken } from '../infra/auth/dev-signing-key.js';
import { ConfigError, loadConfigOrExit } from '../infra/config.js';

/**
 * `npm run token -- <subject> [--role <role>]... [--ttl <n>s|m|h|d]`: a token signed with the
 * development key under DATA_DIR (made if absent, as the app makes it), for the embedded default.
 * Only the token goes to stdout, so `TOKEN=$(npm run -s token -- alice)` works; the rest to stderr.
 */
const USAGE = `usage: npm run token -- <subject> [--role <role>]... [--ttl <duration>]

Prints a bearer token for <subject>, signed with the development key under DATA_DIR, which an
eventfold started without AUTH_JWKS_URL on the embedded default accepts.
  --role <role>   a role the token grants (repeatable); admin may act on every account
  --ttl <n>s|m|h|d  how long it is valid, at most 30d (default 12h)`;

const UNITS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const MAX_TTL_SECONDS = 30 * UNITS.d;

const fail = (message: string): never => {
  console.error(message);
  process.exit(2);
};

const parsed = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        role: { type: 'string', multiple: true, default: [] },
        ttl: { type: 'string', default: '12h' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${USAGE}`);
  }
})();
if (parsed.values.help) {
  console.error(USAGE);
  process.exit(0);
}
const [subject, ...extra] = parsed.positionals;
if (subject === undefined || extra.length > 0 || subject.length > 200 || !/^\S(.*\S)?$/.test(subject))
  fail(`give one subject, 1 to 200 characters, no surrounding spaces\n\n${USAGE}`);
const roles = parsed.values.role;
if (roles.some((role) => !/^\S+$/.test(role))) fail('a role is a non-empty word without spaces');
const ttl = /^([1-9][0-9]*)([smhd])$/.exec(parsed.values.ttl);
const ttlSeconds = ttl ? Number(ttl[1]) * UNITS[ttl[2] as keyof typeof UNITS] : 0;
if (ttlSeconds === 0 || ttlSeconds > MAX_TTL_SECONDS)
  fail(`--ttl ${parsed.values.ttl}: give a duration such as 90s, 30m, 12h or 7d, at most 30d`);

const config = loadConfigOrExit(2);
let kind: ReturnType<typeof chooseAuthentication>['kind'];
try {
  kind = chooseAuthentication(config, process.env.NODE_ENV).kind;
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  kind = fail(`the app would not start with this configuration: ${error.message}`);
}
if (kind === 'jwks')
  fail('AUTH_JWKS_URL is set: the app accepts tokens from that provider only; get one from it');
if (kind === 'disabled') fail('AUTH_DISABLED=true: the app checks no token; send none');

const key = await loadOrCreateDevSigningKey(config.DATA_DIR);
if (key.created) console.error(`made a development signing key: ${key.file}`);
const token = await signDevToken(key, {
  subject: subject as string,
  roles,
  rolesClaim: config.AUTH_ROLES_CLAIM,
  ttlSeconds,
});
process.stdout.write(`${token}\n`);
