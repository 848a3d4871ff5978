import { z } from 'zod';
import { APPEND_FAILURES_REFUSED, disablesAppendFailures } from './event-store/eventstoredb-settings.js';
import { LOG_FORMATS } from './logger.js';

/**
 * All configuration, read once from the environment through one schema: this base schema, with
 * each module's own settings added (withSettings; the app's modules in app/config.ts). A bad value
 * stops start-up with the variable's name and what was wrong with it. `.env.example` lists every
 * variable with its default; keep the two in step.
 */
const optionalUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(z.url().optional())
  .optional();

// z.url() refuses a replica set's host list (h1:27017,h2:27017), so MongoDB URLs get their own check.
const optionalMongoUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(
    z
      .string()
      .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// or mongodb+srv:// URL')
      .optional(),
  )
  .optional();

const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

// z.coerce.boolean() would read "false" as true.
const booleanFlag = z
  .string()
  .trim()
  .toLowerCase()
  .transform((v) => (v === '' ? 'false' : v))
  .pipe(z.enum(['true', 'false'], { error: 'must be true or false' }))
  .transform((v) => v === 'true');

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];
// Whoever can change the key set in transit can sign any token: https, except on this machine.
const optionalJwksUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(
    z
      .url()
      .refine(
        (url) => {
          // Runs after z.url() has refused a value too (zod goes on checking): no URL, no second error.
          if (!URL.canParse(url)) return true;
          const { protocol, hostname } = new URL(url);
          return protocol === 'https:' || (protocol === 'http:' && LOOPBACK_HOSTS.includes(hostname));
        },
        { message: 'must be an https:// URL (http:// only for localhost)' },
      )
      .optional(),
  )
  .optional();

/** What one process runs; a deployment runs each in its own process, or all of them in one. */
export const ROLES = ['write', 'read', 'projector'] as const;
export type Role = (typeof ROLES)[number];

const roleList = z
  .string()
  .transform((text) => [...new Set(text.split(',').map((role) => role.trim()))].filter(Boolean))
  .pipe(
    z
      .array(z.enum(ROLES, { error: `each role must be one of ${ROLES.join(', ')}` }))
      .min(1, `name at least one of ${ROLES.join(', ')}`),
  );

// An EventStoreDB cluster is addressed by its gossip seeds (esdb://h1:2113,h2:2113,h3:2113), which
// z.url() refuses too.
const optionalEventStoreUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(
    z
      .string()
      .regex(/^esdb(\+discover)?:\/\/\S+$/, 'must be an esdb:// or esdb+discover:// connection string')
      // The client would then answer a conflicting append as a result, not an error.
      .refine((url) => !disablesAppendFailures(url), { message: APPEND_FAILURES_REFUSED })
      .optional(),
  )
  .optional();

export const ConfigSchema = z.object({
  /**
   * Comma-separated: `write` (command API), `read` (read API), `projector` (projections and process
   * managers). Every role also serves /health/live, /health/ready and /metrics.
   */
  ROLES: roleList.default([...ROLES]),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * `json` or `pretty` (pino-pretty). Unset: pretty when stdout is a terminal and NODE_ENV is not
   * production, JSON otherwise (see chooseLogFormat).
   */
  LOG_FORMAT: z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(z.enum(LOG_FORMATS).optional())
    .optional(),
  /** Where the embedded SQLite event store keeps its file. */
  DATA_DIR: z.string().min(1).default('./data'),
  /** Set: EventStoreDB (e.g. esdb://localhost:2113?tls=false). Unset: embedded SQLite under DATA_DIR. */
  EVENTSTORE_URL: optionalEventStoreUrl,
  /** The embedded store's fsync: 'full' survives power loss, 'normal' survives a killed process. */
  SQLITE_SYNCHRONOUS: z.enum(['full', 'normal']).default('full'),
  /** Set: MongoDB read models (e.g. mongodb://h1:27017,h2:27017/?replicaSet=rs0). Unset: embedded, in SQLite under DATA_DIR. */
  MONGO_URL: optionalMongoUrl,
  MONGO_DB: z.string().min(1).default('eventfold'),
  /** Where read-model queries go; secondaries may lag the projector by the replication delay. */
  MONGO_READ_PREFERENCE: z
    .enum(['primary', 'primaryPreferred', 'secondary', 'secondaryPreferred', 'nearest'])
    .default('secondaryPreferred'),
  /**
   * Longest a MongoDB write waits for a majority of the replica set (wtimeout) before it fails.
   * Unbounded, writes hang for as long as the majority is lost.
   */
  MONGO_WRITE_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).default(5000),
  /** Set: Redis cache (e.g. redis://localhost:6379). Unset: an in-process LRU cache. */
  REDIS_URL: optionalUrl,
  /** Prepended to every cache key, so several apps or environments can share one Redis. */
  REDIS_KEY_PREFIX: z.string().default('eventfold:'),
  /** Most entries the in-process LRU cache holds (used when REDIS_URL is unset). */
  CACHE_LRU_MAX_ENTRIES: z.coerce.number().int().positive().default(10_000),
  /** Largest accepted request body, in bytes. */
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(16 * 1024),
  /**
   * HTTP server limits (infra/http/server-limits.ts): open connections beyond this are closed as
   * soon as they are accepted. Keep it under the process's file-descriptor limit (ulimit -n).
   */
  HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  /**
   * A socket with no activity for this long is closed, even while its response is being worked on:
   * keep it above the longest wait a route may make (Prefer: wait, x-min-position); 0: none.
   */
  HTTP_CONNECTION_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(120_000),
  /** The whole request (headers and body) must arrive within this, or the answer is a 408 problem. */
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1).max(3_600_000).default(10_000),
  /** The request's headers must arrive within this (at most HTTP_REQUEST_TIMEOUT_MS), or 408. */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1).max(3_600_000).default(5000),
  /** An idle keep-alive connection is closed after this; keep it above a load balancer's idle timeout. */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1).max(3_600_000).default(72_000),
  /** Requests served on one connection before it is closed (spreads clients over replicas); 0: no limit. */
  HTTP_MAX_REQUESTS_PER_SOCKET: z.coerce.number().int().min(0).max(1_000_000).default(1000),
  /** Largest request line and headers, in bytes; beyond it, a 431 problem. */
  HTTP_MAX_HEADER_SIZE_BYTES: z.coerce.number().int().min(1024).max(1_048_576).default(16_384),
  /**
   * Origins browsers may call the API from, comma-separated (https://app.example.com); empty: CORS
   * off, no Access-Control-* headers at all.
   */
  CORS_ORIGINS: z
    .string()
    .transform((text) => [...new Set(text.split(',').map((origin) => origin.trim()))].filter(Boolean))
    .pipe(
      z.array(
        z.string().regex(/^https?:\/\/[^/\s,]+$/, 'each origin must be scheme://host[:port], without a path'),
      ),
    )
    .default([]),
  /**
   * Bearer tokens (infra/auth/create-authentication.ts): the OIDC provider's JWKS URL (its
   * jwks_uri). Unset: a development key under DATA_DIR on the embedded default; refused in production.
   */
  AUTH_JWKS_URL: optionalJwksUrl,
  /** The `iss` every token must carry; required with AUTH_JWKS_URL. */
  AUTH_ISSUER: optionalText,
  /** The `aud` every token must include (this API's identifier at the provider); required with AUTH_JWKS_URL. */
  AUTH_AUDIENCE: optionalText,
  /** The claim that lists the caller's roles: an array of strings, or one space-separated string. */
  AUTH_ROLES_CLAIM: z.string().trim().min(1).default('roles'),
  /** true: no authentication at all, every request acts as an admin. Refused with AUTH_JWKS_URL. */
  AUTH_DISABLED: booleanFlag.default(false),
  /** Verified tokens kept in memory (each until its exp), so a repeated token is not verified again; 0: none. */
  AUTH_TOKEN_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  /**
   * Requests one caller (a verified token's subject) may make per RATE_LIMIT_WINDOW_MS; beyond it, a
   * 429 problem with Retry-After (infra/http/rate-limit.ts). 600 a minute, 10 a second kept up, is
   * more than a person behind a client or a busy integration sends, and far less than a script
   * flooding the API; raise it for a heavy machine client. Counted in Redis when REDIS_URL is set
   * (shared by replicas), in memory otherwise. 0: no limit.
   */
  RATE_LIMIT_MAX: z.coerce.number().int().min(0).max(1_000_000_000).default(600),
  /**
   * Requests one address may make per window without a verified token (none, or one that did not
   * verify): the public routes (docs, a metrics scrape with METRICS_TOKEN) and failed attempts. The
   * health probes are never counted. Behind a proxy, every caller has the proxy's address. 0: no limit.
   */
  RATE_LIMIT_ANONYMOUS_MAX: z.coerce.number().int().min(0).max(1_000_000_000).default(120),
  /** The rate-limit window, in ms: a key's count starts at its first request and ends after this. */
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).max(86_400_000).default(60_000),
  /**
   * Set: GET /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`, what Prometheus'
   * `authorization` scrape option sends. Unset: only an admin's token.
   */
  METRICS_TOKEN: z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(
      z
        .string()
        .regex(/^[\x21-\x7e]{16,512}$/, 'must be 16 to 512 printable characters, without spaces')
        .optional(),
    )
    .optional(),
  /**
   * Who may read /docs and /openapi.json: public (anyone, no token: a browser sends none), admin (an
   * admin's token) or off. They show routes and schemas, no data; a deployment that would rather not
   * show its API to strangers sets admin or off.
   */
  API_DOCS: z.enum(['public', 'admin', 'off']).default('public'),
  /** How many times a command is re-read and re-decided after a concurrency conflict. */
  COMMAND_MAX_RETRIES: z.coerce.number().int().min(0).max(100).default(10),
  /**
   * Streams whose folded state the command pipeline keeps in memory, so that a command reads only
   * the events after it (commands/pipeline/state-cache.ts); 0: none, every command reads its
   * whole stream.
   */
  COMMAND_STATE_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(4096),
  /**
   * How long an Idempotency-Key is remembered, in hours (fractions allowed): a repeat within it is
   * replayed, after it the request is new. Records past it are deleted (EventStoreDB: `$maxAge`).
   */
  IDEMPOTENCY_RETENTION_HOURS: z.coerce.number().positive().max(8760).default(24),
  /**
   * Longest a read with x-min-position waits for the read model to reach that position before it
   * answers 503 with Retry-After.
   */
  READ_CONSISTENCY_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(5000),
  /**
   * Reads waiting for an x-min-position at once; one more is answered 503 with Retry-After. Each
   * holds a connection: keep it well under HTTP_MAX_CONNECTIONS.
   */
  READ_CONSISTENCY_MAX_WAITERS: z.coerce.number().int().min(1).max(1_000_000).default(250),
  /** TTL of cached read-model views (account:<id>), whether the projector or a read wrote them. */
  CACHE_TTL_SECONDS: z.coerce.number().int().positive().default(300),
  /** A cache call slower than this counts as a miss on the read path: a slow cache must not slow reads. */
  READ_CACHE_TIMEOUT_MS: z.coerce.number().int().positive().max(10_000).default(100),
  /** A projector writes a batch once it holds this many events… */
  PROJECTION_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  /** …or this long after the batch's first event, whichever comes first. */
  PROJECTION_FLUSH_INTERVAL_MS: z.coerce.number().int().min(1).max(60_000).default(50),
  /**
   * idle: a projector also writes its batch as soon as it has read everything there is (what came
   * in together goes in one batch, and a read with x-min-position waits for no timer); timer: only
   * by the two bounds above (fewer, larger writes under light load).
   */
  PROJECTION_FLUSH: z.enum(['idle', 'timer']).default('idle'),
  /** A projector's lease on its projection lasts this long unrenewed; it renews every third of it. */
  PROJECTION_LEASE_TTL_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  /** Tries of a failing handler (or batch write) before the event is parked. */
  PROJECTION_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  /** First pause between those tries; it doubles each time. */
  PROJECTION_RETRY_BACKOFF_MS: z.coerce.number().int().min(0).max(60_000).default(20),
  /** Longest the projector waits for the cache refresh after a batch before it moves on. */
  PROJECTION_CACHE_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(1000),
  /** Readiness of a read role fails while a projection is more than this many events behind; 0: no bound. */
  READY_MAX_LAG: z.coerce.number().int().min(0).max(100_000).default(1000),
  /** A readiness check (a store ping, a lag count) that takes longer than this counts as failed. */
  READY_CHECK_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(1000),
  /** After SIGTERM/SIGINT, the process exits anyway once this much time has passed. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** Set: tracing on, spans sent over OTLP/HTTP to this collector (the standard OpenTelemetry variable). */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
  /** The service name spans carry (the standard OpenTelemetry variable). */
  OTEL_SERVICE_NAME: z.string().min(1).default('eventfold'),
});

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * The base schema with more settings (the app's modules' own, see app/config.ts), as one schema:
 * every variable is still read once, here. A variable defined twice is refused: two owners would
 * silently share, or override, each other's setting.
 */
export const withSettings = (...shapes: readonly z.core.$ZodShape[]) => {
  const shape: Record<string, z.core.$ZodType> = { ...ConfigSchema.shape };
  for (const extra of shapes)
    for (const [key, schema] of Object.entries(extra)) {
      if (key in shape) throw new Error(`the setting ${key} is defined twice`);
      shape[key] = schema;
    }
  return z.object(shape);
};

/**
 * Reads `schema` (by default the base one) from `env`; a bad value throws a ConfigError that names
 * each offending variable and what is wrong with it.
 */
export const loadConfig = <Result = Config>(
  env: NodeJS.ProcessEnv = process.env,
  schema: z.ZodType<Result> = ConfigSchema as unknown as z.ZodType<Result>,
): Result => {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
};

/** For entry points: the configuration, or the list of what is wrong on stderr and exit `exitCode`. */
export const loadConfigOrExit = <Result = Config>(
  exitCode: number,
  env: NodeJS.ProcessEnv = process.env,
  schema?: z.ZodType<Result>,
): Result => {
  try {
    return loadConfig(env, schema);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(exitCode);
  }
};
