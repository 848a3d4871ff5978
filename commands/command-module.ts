import type { EventStore } from '../infra/event-store/event-store.js';
import type { HttpApp } from '../infra/http/create-http-app.js';
import type { Logger } from '../infra/logger.js';
import type { ReadStore } from '../infra/read-store/read-store.js';
import type { CommandHandler } from './pipeline/handle-command.js';
import type { HttpCommandRunner } from './pipeline/http-command.js';

/**
 * What a module contributes to the write side, and what it is given to do it. A module's folder
 * (commands/accounts/) exports its part from its index; app/modules/ composes it with the module's
 * projections and query routes. `Settings` are the values of the module's own configuration schema.
 */

/** What every module's command routes share: one pipeline and one idempotency store. */
export type CommandRoutesContext = {
  /** Runs a command for a request: the pipeline, the idempotency record, problems for its errors. */
  run: HttpCommandRunner;
  eventStore: EventStore;
  logger: Logger;
};

/** Registers a module's command routes, in a plugin of their own (so /openapi.json lists them). */
export type CommandRoutes<Settings = unknown> = (
  app: HttpApp,
  context: CommandRoutesContext,
  settings: Settings,
) => void | Promise<void>;

/** What a process manager is started with, in a process that runs the projector role. */
export type ProcessManagerContext = {
  eventStore: EventStore;
  /** The command pipeline, instrumented as the write API's is (metrics, trace context). */
  handle: CommandHandler;
  logger: Logger;
  /**
   * Where it holds its lease, so that one projector replica drives it while the others stand by
   * (as for each projection). Absent: the deployment runs one instance.
   */
  leases?: { readStore: ReadStore; ttlMs: number };
};

/** A module's process manager: started by the projector role, stopped at shutdown. */
export type ProcessManagerStarter<Settings = unknown> = {
  /** For logs; by convention also its checkpoint's and its lease's name. */
  readonly name: string;
  start(context: ProcessManagerContext, settings: Settings): { stop(): Promise<void> };
};
