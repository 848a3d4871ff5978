import type { EventStore } from '../../infra/event-store/event-store.js';
import type { Logger } from '../../infra/logger.js';
import type { ProcessManagerStarter } from '../command-module.js';
import type { CommandHandler } from '../pipeline/handle-command.js';
import { readStoreLease } from './lease.js';
import { type ProcessDefinition, type ProcessManagerConfig, startProcessManager } from './process-manager.js';

/** What a process definition is built from when the app starts it. */
export type ProcessDefinitionDeps = {
  eventStore: EventStore;
  /** The app's command pipeline, instrumented as the write API's is. */
  handle: CommandHandler;
  /** A child logger with the process manager's name as its component. */
  logger: Logger;
  now: () => number;
};

/**
 * A module's process manager as the app starts it (a ProcessManagerStarter, listed in the module's
 * `processManagers`): its definition, run on the engine (startProcessManager), under a read-store
 * lease named after it when the deployment gives leases (one projector replica drives it, the
 * others stand by). `config` takes the module's settings, e.g. how many keys it drives at once.
 */
export const processManagerStarter = <Settings = unknown>({
  name,
  definition,
  config,
}: {
  /** Names its checkpoint, its lease and its log lines. */
  name: string;
  definition: (deps: ProcessDefinitionDeps & { name: string }, settings: Settings) => ProcessDefinition;
  config?: (settings: Settings) => Partial<ProcessManagerConfig>;
}): ProcessManagerStarter<Settings> => ({
  name,
  start: ({ eventStore, handle, logger, leases }, settings) => {
    const now = Date.now;
    return startProcessManager(
      definition({ eventStore, handle, logger: logger.child({ component: name }), now, name }, settings),
      {
        eventStore,
        logger,
        now,
        ...(config && { config: config(settings) }),
        ...(leases && { lease: readStoreLease(leases.readStore, { name, ttlMs: leases.ttlMs, logger }) }),
      },
    );
  },
});
