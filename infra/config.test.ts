import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('config: ROLES', () => {
  it('runs every role when unset', () => {
    expect(loadConfig({}).ROLES).toEqual(['write', 'read', 'projector']);
  });

  it('reads a comma-separated subset, trimmed, without repeats', () => {
    expect(loadConfig({ ROLES: ' read , projector,read' }).ROLES).toEqual(['read', 'projector']);
  });

  it.each([
    ['', /ROLES: name at least one of write, read, projector/],
    [',', /ROLES: name at least one of/],
    ['read,writer', /ROLES\.1: each role must be one of write, read, projector/],
  ])('refuses %j, naming ROLES', (value, message) => {
    expect(() => loadConfig({ ROLES: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ROLES: value })).toThrow(message);
  });
});

describe('config: EVENTSTORE_URL', () => {
  it.each([
    'esdb://localhost:2113?tls=false',
    'esdb://node1:2113,node2:2113,node3:2113?tls=true&nodePreference=leader',
    'esdb+discover://cluster.example.com:2113',
  ])('takes %s', (url) => {
    expect(loadConfig({ EVENTSTORE_URL: url }).EVENTSTORE_URL).toBe(url);
  });

  it('treats empty as unset, and refuses what is not an EventStoreDB connection string', () => {
    expect(loadConfig({ EVENTSTORE_URL: '' }).EVENTSTORE_URL).toBeUndefined();
    expect(() => loadConfig({ EVENTSTORE_URL: 'http://localhost:2113' })).toThrow(
      /EVENTSTORE_URL: must be an esdb/,
    );
  });

  it('refuses throwOnAppendFailure=false, however the key is spelled, which would turn conflicts into 500s', () => {
    for (const setting of [
      'throwOnAppendFailure=false',
      'ThrowOnAppendFailure=false',
      'throw-on-append_failure=false',
    ])
      expect(
        () => loadConfig({ EVENTSTORE_URL: `esdb://localhost:2113?tls=false&${setting}` }),
        setting,
      ).toThrow(/EVENTSTORE_URL: throwOnAppendFailure=false is not supported/);
    expect(
      loadConfig({ EVENTSTORE_URL: 'esdb://h:2113?throwOnAppendFailure=true' }).EVENTSTORE_URL,
    ).toBeDefined();
  });
});

describe('config: LOG_FORMAT', () => {
  it('takes json or pretty, treats empty as unset (the format is then chosen from the terminal), and refuses others', () => {
    expect(loadConfig({}).LOG_FORMAT).toBeUndefined();
    expect(loadConfig({ LOG_FORMAT: '' }).LOG_FORMAT).toBeUndefined();
    expect(loadConfig({ LOG_FORMAT: 'json' }).LOG_FORMAT).toBe('json');
    expect(loadConfig({ LOG_FORMAT: ' pretty ' }).LOG_FORMAT).toBe('pretty');
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
  });
});

describe('config: MONGO_WRITE_TIMEOUT_MS', () => {
  it('bounds MongoDB writes at 5 s unless set', () => {
    expect(loadConfig({}).MONGO_WRITE_TIMEOUT_MS).toBe(5000);
    expect(loadConfig({ MONGO_WRITE_TIMEOUT_MS: '250' }).MONGO_WRITE_TIMEOUT_MS).toBe(250);
  });

  it.each(['0', '-1', '1.5', 'soon', '600001'])('refuses %j, naming MONGO_WRITE_TIMEOUT_MS', (value) => {
    expect(() => loadConfig({ MONGO_WRITE_TIMEOUT_MS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ MONGO_WRITE_TIMEOUT_MS: value })).toThrow(/MONGO_WRITE_TIMEOUT_MS/);
  });
});

describe('config: COMMAND_STATE_CACHE_SIZE', () => {
  it('keeps the state of 4096 streams unless set; 0 turns the cache off', () => {
    expect(loadConfig({}).COMMAND_STATE_CACHE_SIZE).toBe(4096);
    expect(loadConfig({ COMMAND_STATE_CACHE_SIZE: '0' }).COMMAND_STATE_CACHE_SIZE).toBe(0);
    expect(loadConfig({ COMMAND_STATE_CACHE_SIZE: '100000' }).COMMAND_STATE_CACHE_SIZE).toBe(100_000);
  });

  it.each(['-1', '1.5', 'many', '1000001'])('refuses %j, naming COMMAND_STATE_CACHE_SIZE', (value) => {
    expect(() => loadConfig({ COMMAND_STATE_CACHE_SIZE: value })).toThrow(ConfigError);
    expect(() => loadConfig({ COMMAND_STATE_CACHE_SIZE: value })).toThrow(/COMMAND_STATE_CACHE_SIZE/);
  });
});

describe('config: IDEMPOTENCY_RETENTION_HOURS', () => {
  it('remembers a key for 24 hours unless set; fractions of an hour are allowed', () => {
    expect(loadConfig({}).IDEMPOTENCY_RETENTION_HOURS).toBe(24);
    expect(loadConfig({ IDEMPOTENCY_RETENTION_HOURS: '0.5' }).IDEMPOTENCY_RETENTION_HOURS).toBe(0.5);
    expect(loadConfig({ IDEMPOTENCY_RETENTION_HOURS: '168' }).IDEMPOTENCY_RETENTION_HOURS).toBe(168);
  });

  it.each(['0', '-1', 'a day', '8761'])('refuses %j, naming IDEMPOTENCY_RETENTION_HOURS', (value) => {
    expect(() => loadConfig({ IDEMPOTENCY_RETENTION_HOURS: value })).toThrow(/IDEMPOTENCY_RETENTION_HOURS/);
  });
});

describe('config: HTTP limits and CORS_ORIGINS', () => {
  it('has bounded connections and timeouts unless set', () => {
    expect(loadConfig({})).toMatchObject({
      HTTP_MAX_CONNECTIONS: 1000,
      HTTP_REQUEST_TIMEOUT_MS: 10_000,
      HTTP_HEADERS_TIMEOUT_MS: 5000,
      HTTP_MAX_HEADER_SIZE_BYTES: 16_384,
    });
    expect(() => loadConfig({ HTTP_MAX_CONNECTIONS: '0' })).toThrow(/HTTP_MAX_CONNECTIONS/);
  });

  it('turns CORS off when empty, and reads a comma-separated list of origins', () => {
    expect(loadConfig({}).CORS_ORIGINS).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: '' }).CORS_ORIGINS).toEqual([]);
    expect(
      loadConfig({ CORS_ORIGINS: ' https://app.example.com , http://localhost:5173,https://app.example.com' })
        .CORS_ORIGINS,
    ).toEqual(['https://app.example.com', 'http://localhost:5173']);
  });

  it.each(['app.example.com', 'https://app.example.com/', 'https://app.example.com/path'])(
    'refuses the origin %j, naming CORS_ORIGINS',
    (value) => {
      expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow(/CORS_ORIGINS\.0: each origin must be/);
    },
  );
});

describe('config: rate limits, waiter caps, METRICS_TOKEN and API_DOCS', () => {
  it('limits callers and addresses, bounds waiters, and serves public docs and admin-only metrics unless set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      RATE_LIMIT_MAX: 600,
      RATE_LIMIT_ANONYMOUS_MAX: 120,
      RATE_LIMIT_WINDOW_MS: 60_000,
      READ_CONSISTENCY_MAX_WAITERS: 250,
      API_DOCS: 'public',
    });
    expect(config.METRICS_TOKEN).toBeUndefined();
    expect(config.READ_CONSISTENCY_MAX_WAITERS).toBeLessThan(config.HTTP_MAX_CONNECTIONS);
    expect(loadConfig({ RATE_LIMIT_MAX: '0', RATE_LIMIT_ANONYMOUS_MAX: '0' })).toMatchObject({
      RATE_LIMIT_MAX: 0,
      RATE_LIMIT_ANONYMOUS_MAX: 0,
    });
  });

  it('takes a metrics token of 16 printable characters or more, treats empty as unset, and refuses others without echoing them', () => {
    expect(loadConfig({ METRICS_TOKEN: ' abcdefghijklmnop ' }).METRICS_TOKEN).toBe('abcdefghijklmnop');
    expect(loadConfig({ METRICS_TOKEN: '' }).METRICS_TOKEN).toBeUndefined();
    for (const token of ['short-secret', 'sixteen chars ok?', `é${'x'.repeat(20)}`]) {
      const refusal = (() => {
        try {
          loadConfig({ METRICS_TOKEN: token });
        } catch (error) {
          return error;
        }
      })();
      expect(refusal).toBeInstanceOf(ConfigError);
      expect(String(refusal)).toMatch(/METRICS_TOKEN: must be 16 to 512 printable characters/);
      expect(String(refusal)).not.toContain(token);
    }
  });

  it.each([
    ['API_DOCS', 'private'],
    ['RATE_LIMIT_MAX', '-1'],
    ['RATE_LIMIT_WINDOW_MS', '10'],
    ['READ_CONSISTENCY_MAX_WAITERS', '0'],
  ])('refuses %s=%s', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(new RegExp(`${key}:`));
  });
});

describe('config: AUTH_JWKS_URL', () => {
  it.each(['not a url', 'keys.example.com/jwks', 'http://keys.example.com/jwks'])(
    'refuses %s with the variable named, not a crash',
    (value) => {
      expect(() => loadConfig({ AUTH_JWKS_URL: value })).toThrow(ConfigError);
      expect(() => loadConfig({ AUTH_JWKS_URL: value })).toThrow(/AUTH_JWKS_URL/);
    },
  );

  it('takes https, and http on this machine only', () => {
    expect(loadConfig({ AUTH_JWKS_URL: 'https://id.example.com/jwks' }).AUTH_JWKS_URL).toBe(
      'https://id.example.com/jwks',
    );
    expect(loadConfig({ AUTH_JWKS_URL: 'http://127.0.0.1:8080/jwks' }).AUTH_JWKS_URL).toBe(
      'http://127.0.0.1:8080/jwks',
    );
  });
});
