import { loadConfigOrExit } from '../infra/config.js';
import { shutdownOnSignals } from '../infra/lifecycle/shutdown-on-signals.js';
import { chooseLogFormat, createLogger } from '../infra/logger.js';
import type { Tracing } from '../infra/tracing/tracing.js';
import type { AnyModule } from './module.js';

/**
 * What `npm start` runs (app/main.ts): the roles ROLES names, in one process, configured from the
 * environment. SIGTERM or SIGINT stops it gracefully; a second signal, or SHUTDOWN_TIMEOUT_MS,
 * ends it at once.
 *
 * The base settings are read first: logging and tracing need them before anything else is loaded.
 * The modules' settings are read with the rest (loadAppConfigOrExit) once tracing is in place,
 * since importing the modules loads every layer: so are the modules, when `modules` loads them.
 *
 * `modules`: default the app's (app/modules.ts); a test entry point passes its own
 * (app/testing/fixture-main.ts).
 */
export const runApp = async ({ modules }: { modules?: () => Promise<readonly AnyModule[]> } = {}) => {
  const base = loadConfigOrExit(1);
  const logger = createLogger({
    level: base.LOG_LEVEL,
    format: chooseLogFormat({
      explicit: base.LOG_FORMAT,
      stdoutIsTTY: process.stdout.isTTY,
      nodeEnv: process.env.NODE_ENV,
    }),
  });

  // Tracing first, and only when asked for: the SDK is not even loaded otherwise, and its HTTP and
  // Fastify instrumentation must be in place before the system creates its server.
  let tracing: Tracing | undefined;
  if (base.OTEL_EXPORTER_OTLP_ENDPOINT) {
    const { startTracing } = await import('../infra/tracing/start-tracing.js');
    tracing = startTracing({ serviceName: base.OTEL_SERVICE_NAME, roles: base.ROLES });
  }

  const { loadAppConfigOrExit } = await import('./config.js');
  const chosen = await modules?.();
  const config = loadAppConfigOrExit(1, process.env, chosen);
  const { startSystem } = await import('./system.js');
  try {
    const system = await startSystem(config, logger, { tracing, ...(chosen && { modules: chosen }) });
    shutdownOnSignals({
      stop: async () => {
        await system.stop();
        await tracing?.shutdown();
      },
      logger,
      timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    });
  } catch (error) {
    logger.fatal({ err: error }, 'could not start');
    await tracing?.shutdown();
    process.exit(1);
  }
};
