import { afterEach, describe, expect, it } from 'vitest';
import type { Authentication } from '../auth/authenticate.js';
import { adminHeaders, bearer, testAuthentication } from '../auth/testing/test-tokens.js';
import { createHttpApp, type HttpApp } from '../http/create-http-app.js';
import { createLogger } from '../logger.js';
import { createMetrics } from './metrics.js';
import type { MetricsAccess } from './metrics-access.js';

const TOKEN = 'scrape-secret-0123456789abcdef';

let app: HttpApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const appWith = async (access: MetricsAccess | undefined, auth: Authentication = testAuthentication) => {
  app = createHttpApp({ logger: createLogger({ level: 'silent' }), bodyLimit: 1024, auth });
  createMetrics({ defaultMetrics: false }).registerRoutes(app, access);
  await app.ready();
  return app;
};

const scrape = (authorization?: string) => {
  if (!app) throw new Error('no app');
  return app.inject({ url: '/metrics', headers: authorization === undefined ? {} : { authorization } });
};

const expectMetrics = (response: Awaited<ReturnType<typeof scrape>>) => {
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain/);
  expect(response.body).toContain('# TYPE eventfold_commands_total counter');
};

const expectRefused = (response: Awaited<ReturnType<typeof scrape>>, status: 401 | 403) => {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.json()).toMatchObject({
    status,
    type: `urn:eventfold:problem:${status === 401 ? 'unauthenticated' : 'forbidden'}`,
  });
  expect(response.body).not.toContain('eventfold_commands_total');
  if (status === 401) expect(response.headers['www-authenticate']).toMatch(/^Bearer realm=/);
};

describe('GET /metrics with METRICS_TOKEN set', () => {
  it('answers the token sent as a bearer token, as Prometheus sends it', async () => {
    await appWith({ token: TOKEN });
    expectMetrics(await scrape(`Bearer ${TOKEN}`));
    expectMetrics(await scrape(`bearer ${TOKEN}`));
  });

  it('refuses a wrong token, a missing one, and any JWT, an admin one too', async () => {
    await appWith({ token: TOKEN });
    expectRefused(await scrape(), 401);
    expectRefused(await scrape(`Bearer ${TOKEN.slice(0, -1)}x`), 401);
    expectRefused(await scrape(`Bearer ${TOKEN}x`), 401);
    expectRefused(await scrape('Bearer short'), 401);
    expectRefused(await scrape(TOKEN), 401);
    expectRefused(await scrape(`Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`), 401);
    expectRefused(await scrape(adminHeaders().authorization), 401);
  });
});

describe('GET /metrics without METRICS_TOKEN', () => {
  it("answers an admin's token only", async () => {
    await appWith(undefined);
    expectMetrics(await scrape(adminHeaders().authorization));
    expectRefused(await scrape(bearer('alice')), 403);
    expectRefused(await scrape(), 401);
    expectRefused(await scrape('Bearer not-a-jwt'), 401);
    expectRefused(await scrape(`Bearer ${TOKEN}`), 401);
  });

  it('is open when authentication is off, as every route is then', async () => {
    await appWith({}, { disabled: true });
    expectMetrics(await scrape());
  });
});
