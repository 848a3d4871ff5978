import { afterEach, describe, expect, it } from 'vitest';
import { adminHeaders, bearer, testAuthentication } from '../../infra/auth/testing/test-tokens.js';
import { createHttpApp, type HttpApp } from '../../infra/http/create-http-app.js';
import { createLogger } from '../../infra/logger.js';
import { type ApiDocsAccess, registerApiDocs } from './api-docs.js';

let app: HttpApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const appWith = async (access?: ApiDocsAccess) => {
  app = createHttpApp({
    logger: createLogger({ level: 'silent' }),
    bodyLimit: 1024,
    auth: testAuthentication,
  });
  app.get('/things', async () => ({ ok: true }));
  registerApiDocs(app, access);
  await app.ready();
  return app;
};

const DOCS_URLS = ['/openapi.json', '/docs', '/docs/', '/docs/static/index.html'];

const get = (url: string, headers: Record<string, string> = {}) => {
  if (!app) throw new Error('no app');
  return app.inject({ url, headers });
};

/** The docs answer 200, or (for /docs) a redirect to /docs/, which answers 200. */
const expectServed = async (url: string, headers: Record<string, string> = {}) => {
  const response = await get(url, headers);
  expect([200, 302], url).toContain(response.statusCode);
};

const expectProblem = async (url: string, headers: Record<string, string>, status: number, type: string) => {
  const response = await get(url, headers);
  expect(response.statusCode, url).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.json()).toMatchObject({ status, type: `urn:eventfold:problem:${type}` });
};

describe('API docs access (API_DOCS)', () => {
  it('public (the default): served without a token, while every other route still asks for one', async () => {
    await appWith();
    for (const url of DOCS_URLS) await expectServed(url);
    expect((await get('/openapi.json')).json()).toMatchObject({ openapi: '3.1.0' });
    await expectProblem('/things', {}, 401, 'unauthenticated');
  });

  it('admin: only to a request with an admin token', async () => {
    await appWith('admin');
    for (const url of DOCS_URLS) {
      await expectProblem(url, {}, 401, 'unauthenticated');
      await expectProblem(url, { authorization: 'Bearer not-a-jwt' }, 401, 'unauthenticated');
      await expectProblem(url, { authorization: bearer('alice') }, 403, 'forbidden');
      await expectServed(url, adminHeaders());
    }
    expect((await get('/openapi.json', adminHeaders())).json()).toMatchObject({ openapi: '3.1.0' });
  });

  it('off: not served, to anyone', async () => {
    await appWith('off');
    for (const url of DOCS_URLS) {
      await expectProblem(url, {}, 401, 'unauthenticated');
      await expectProblem(url, adminHeaders(), 404, 'route-not-found');
    }
  });
});
