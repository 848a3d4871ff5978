import { describe, expect, it } from 'vitest';
import { createHttpApp } from '../../infra/http/create-http-app.js';
import { createLogger } from '../../infra/logger.js';
import { registerApiDocs } from './api-docs.js';

const appWith = async () => {
  const app = createHttpApp({
    auth: { disabled: true },
    logger: createLogger({ level: 'silent' }),
    bodyLimit: 1024,
  });
  registerApiDocs(app);
  await app.ready();
  return app;
};

describe('/docs under the security headers', () => {
  it('serves /docs and every script and stylesheet it loads, from its own origin as its CSP allows', async () => {
    const app = await appWith();
    const page = await app.inject({ url: '/docs/' });
    expect(page.statusCode).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).toMatch(/style-src 'self'/);
    // No inline script, which script-src 'self' would block: every script and stylesheet is a
    // relative URL on this origin, and each answers 200.
    expect(page.body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>\s*\S/);
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1] as string);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      expect(asset).not.toMatch(/^(https?:)?\/\//);
      const response = await app.inject({ url: new URL(asset, 'http://x/docs/').pathname });
      expect(response.statusCode, asset).toBe(200);
    }
    expect((await app.inject({ url: '/openapi.json' })).statusCode).toBe(200);
    await app.close();
  });
});
