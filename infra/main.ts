import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startSystem } from './system.js';

/** `npm start`: the whole system in one process, configured from the environment. */
const main = async () => {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  const logger = createLogger({ level: config.LOG_LEVEL });
  const system = await startSystem(config, logger);

  let stopping = false;
  const shutdown = (signal: string) => {
    // A second signal means "now": the operator has given up waiting for a clean stop.
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    system.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
};

await main();
