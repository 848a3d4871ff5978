import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { createHttpApp } from './create-http-app.js';

const appWith = async (corsOrigins?: readonly string[]) => {
  const app = createHttpApp({
    auth: { disabled: true },
    logger: createLogger({ level: 'silent' }),
    bodyLimit: 1024,
    ...(corsOrigins && { corsOrigins }),
  });
  app.get('/hello', async () => ({ hello: 'world' }));
  app.post('/hello', async () => ({ hello: 'world' }));
  await app.ready();
  return app;
};

describe('security headers and CORS', () => {
  it('puts security headers on API answers and on problem documents', async () => {
    const app = await appWith();
    for (const url of ['/hello', '/nowhere']) {
      const { headers } = await app.inject({ url });
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(headers['content-security-policy']).toContain("default-src 'self'");
      expect(headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
      expect(headers['referrer-policy']).toBe('no-referrer');
      expect(headers['x-powered-by']).toBeUndefined();
    }
    await app.close();
  });

  it('sends no CORS headers by default, to a simple request or a preflight', async () => {
    const app = await appWith();
    const simple = await app.inject({ url: '/hello', headers: { origin: 'https://app.example.com' } });
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/hello',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    for (const { headers } of [simple, preflight])
      for (const name of Object.keys(headers)) expect(name).not.toMatch(/^access-control-/);
    await app.close();
  });

  it('answers a preflight from a configured origin, and only from it', async () => {
    const app = await appWith(['https://app.example.com']);
    const preflight = (origin: string) =>
      app.inject({
        method: 'OPTIONS',
        url: '/hello',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,idempotency-key',
        },
      });
    const allowed = await preflight('https://app.example.com');
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(allowed.headers['access-control-allow-methods']).toContain('POST');
    expect(allowed.headers['access-control-allow-headers']).toBe('content-type,idempotency-key');
    expect(allowed.headers.vary).toContain('Origin');
    const other = await preflight('https://evil.example.com');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const simple = await app.inject({ url: '/hello', headers: { origin: 'https://app.example.com' } });
    expect(simple.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(simple.headers['access-control-expose-headers']).toContain('x-correlation-id');
    await app.close();
  });
});
