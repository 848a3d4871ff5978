import type { HttpApp } from '../http/create-http-app.js';
import type { Readiness } from './readiness.js';

/**
 * GET /health/live: the process is up and its event loop answers; restart it when this fails.
 * GET /health/ready: its dependencies answer; send it traffic only while this is 200.
 * Hidden from the API docs: they are for orchestrators, not API clients. Public and never rate
 * limited: a probe carries no token, and one refused would restart or unroute a healthy process.
 */
const probe = {
  schema: { hide: true },
  logLevel: 'warn',
  config: { public: true, rateLimit: false },
} as const;

export const registerHealthRoutes = (app: HttpApp, readiness: Readiness) => {
  app.get('/health/live', probe, async () => ({ status: 'up' }));

  app.get('/health/ready', probe, async (_request, reply) => {
    const report = await readiness.check();
    reply.code(report.ready ? 200 : 503).header('cache-control', 'no-store');
    return report;
  });
};
