import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../infra/logger.js';
import { loadAppConfig } from './config.js';
import { type System, startSystem } from './system.js';

/**
 * "No input may produce a 5xx", tested as a property: the whole system, as `npm start` runs it,
 * answers random requests (routes, path segments, query strings, headers and bodies, well-formed
 * and not) with a status below 500, and every error is a problem document.
 */
describe('no input produces a 5xx', () => {
  let dir: string;
  let system: System;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'eventfold-fuzz-'));
    const config = loadAppConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dir,
      // Keep waits short: a random x-min-position far ahead must time out quickly (a 503 it may be).
      READ_CONSISTENCY_TIMEOUT_MS: '20',
      TRANSFER_WAIT_MAX_SECONDS: '0',
    });
    system = await startSystem(config, createLogger({ level: 'silent' }));
    const post = (url: string, payload: object) => system.app.inject({ method: 'POST', url, payload });
    await post('/accounts', { accountId: 'ada', owner: 'Ada', currency: 'EUR' });
    await post('/accounts', { accountId: 'bob', owner: 'Bob', currency: 'EUR' });
    await post('/accounts/ada/deposits', { amount: 1000 });
  });
  afterAll(async () => {
    await system.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const segment = fc.oneof(
    fc.constantFrom(
      'ada',
      'bob',
      'nobody',
      '',
      '..',
      '%00',
      '%2F',
      '%E0%A4%A',
      'a'.repeat(300),
      '$where',
      '__proto__',
    ),
    fc.string({ maxLength: 20 }).map(encodeURIComponent),
  );
  const path = fc.oneof(
    fc.constantFrom('/accounts', '/transfers', '/health/ready', '/metrics', '/openapi.json', '/nowhere'),
    segment.map((id) => `/accounts/${id}`),
    fc
      .tuple(segment, fc.constantFrom('deposits', 'withdrawals', 'close', 'transactions', 'x'))
      .map(([id, action]) => `/accounts/${id}/${action}`),
    segment.map((id) => `/transfers/${id}`),
  );
  const queryValue = fc.oneof(
    fc.constantFrom('1', '0', '-1', '101', '1e3', 'open', 'closed', 'Ada', '', '[]', '{"$ne":1}'),
    fc.string({ maxLength: 30 }),
  );
  const queryKey = fc.constantFrom(
    'owner',
    'status',
    'limit',
    'cursor',
    'owner[$ne]',
    'limit[]',
    'x',
    '__proto__',
  );
  const query = fc
    .array(fc.tuple(queryKey, queryValue), { maxLength: 4 })
    .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));
  const amount = fc.oneof(
    fc.integer(),
    fc.double(),
    fc.constantFrom(0, -1, 1, 2 ** 53, Number.MAX_SAFE_INTEGER, 1e12, 1e13),
    fc.string({ maxLength: 5 }),
  );
  const body = fc.oneof(
    fc.record(
      {
        amount,
        owner: fc.string({ maxLength: 10 }),
        currency: fc.constantFrom('EUR', 'USD', 'eur', 'XXX', ''),
        accountId: segment,
        fromAccountId: fc.constantFrom('ada', 'bob', 'nobody'),
        toAccountId: fc.constantFrom('ada', 'bob', 'nobody'),
        reference: fc.oneof(fc.string({ maxLength: 10 }), fc.object()),
      },
      { requiredKeys: [] },
    ),
    fc.jsonValue({ maxDepth: 3 }),
  );
  const headers = fc.record(
    {
      'x-min-position': fc.oneof(
        fc.constantFrom('1', '0', '-1', '99999999999999999999999', 'abc', ''),
        fc.string(),
      ),
      'idempotency-key': fc.oneof(fc.constantFrom('k1', 'k2'), fc.string({ maxLength: 300 })),
      'if-none-match': fc.string({ maxLength: 40 }),
      prefer: fc.constantFrom('wait=1', 'wait=x', 'wait=-1', 'respond-async', ''),
      'x-correlation-id': fc.string({ maxLength: 200 }),
    },
    { requiredKeys: [] },
  );
  const request = fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
    path,
    query,
    headers,
    payload: fc.option(
      fc.oneof(
        body.map((b) => JSON.stringify(b)),
        fc.string({ maxLength: 50 }),
      ),
      { nil: undefined },
    ),
    contentType: fc.constantFrom(
      'application/json',
      'text/plain',
      'application/json; charset=utf-8',
      undefined,
    ),
  });

  it('answers every request below 500, with problem documents for errors', async () => {
    await fc.assert(
      fc.asyncProperty(request, async ({ method, path, query, headers, payload, contentType }) => {
        // Header values must be valid HTTP header characters; anything else never reaches a server.
        const safeHeaders = Object.fromEntries(
          Object.entries(headers).filter(([, value]) => /^[\t\x20-\x7e]*$/.test(value as string)),
        ) as Record<string, string>;
        const response = await system.app.inject({
          method,
          url: query ? `${path}?${query}` : path,
          headers: {
            ...safeHeaders,
            ...(contentType && payload !== undefined && { 'content-type': contentType }),
          },
          ...(payload !== undefined && method !== 'GET' && { payload }),
        });
        const context = `${method} ${path}?${query} -> ${response.statusCode} ${response.body.slice(0, 300)}`;
        // 503 is a chosen answer (a consistency wait timed out), never a crash; anything else 5xx is.
        if (response.statusCode === 503)
          expect(response.json().type, context).toBe('urn:eventfold:problem:consistency-timeout');
        else expect(response.statusCode, context).toBeLessThan(500);
        if (response.statusCode >= 400 && path !== '/health/ready')
          expect(response.headers['content-type'], context).toMatch(/^application\/problem\+json/);
      }),
      {
        numRuns: Number(process.env.FUZZ_RUNS ?? 1000),
        seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined,
      },
    );
  });
});
