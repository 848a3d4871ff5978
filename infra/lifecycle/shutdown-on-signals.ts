import type { Logger } from '../logger.js';

export type ShutdownOnSignalsOptions = {
  /** The graceful stop: not ready, stop accepting, finish in-flight work, close clients. */
  stop: () => Promise<void>;
  logger: Logger;
  /** The backstop: exit anyway (code 1) once the stop has taken this long (SHUTDOWN_TIMEOUT_MS). */
  timeoutMs: number;
  signals?: readonly NodeJS.Signals[];
  /** For tests: where signals come from and how the process ends. */
  process?: Pick<NodeJS.Process, 'on' | 'off'>;
  exit?: (code: number) => void;
};

/**
 * The first SIGTERM or SIGINT stops the system gracefully, then exits 0 (1 if the stop failed).
 * A second signal exits at once: the operator has given up waiting. A stop that hangs past
 * `timeoutMs` exits 1, so an orchestrator's kill deadline is never what ends the process.
 * Returns a function that removes the handlers.
 */
export const shutdownOnSignals = ({
  stop,
  logger,
  timeoutMs,
  signals = ['SIGTERM', 'SIGINT'],
  process: target = process,
  exit = (code) => process.exit(code),
}: ShutdownOnSignalsOptions): (() => void) => {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting for the graceful stop');
      exit(1);
      return;
    }
    stopping = true;
    logger.info({ signal, timeoutMs }, 'shutting down');
    const backstop = setTimeout(() => {
      logger.error({ timeoutMs }, 'graceful stop took longer than SHUTDOWN_TIMEOUT_MS; exiting');
      exit(1);
    }, timeoutMs);
    // The backstop must not be what keeps a finished process alive.
    backstop.unref();
    stop().then(
      () => {
        clearTimeout(backstop);
        logger.info('stopped');
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(backstop);
        logger.error({ err: error }, 'graceful stop failed');
        exit(1);
      },
    );
  };
  for (const signal of signals) target.on(signal, onSignal);
  return () => {
    for (const signal of signals) target.off(signal, onSignal);
  };
};
