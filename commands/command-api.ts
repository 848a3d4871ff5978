import type { EventStore } from '../infra/event-store/event-store.js';
import type { HttpApp } from '../infra/http/create-http-app.js';
import { accountCommands } from './accounts/index.js';
import type { CommandRoutesContext } from './command-module.js';
import { createCommandHandler } from './pipeline/handle-command.js';
import { createHttpCommandRunner } from './pipeline/http-command.js';
import { createIdempotencyStore } from './pipeline/idempotency.js';
import { type CommandInstrumentation, instrumentCommands } from './pipeline/instrument-commands.js';
import { TransferSettings, transferCommands } from './transfers/index.js';
import type { TransferRoutesConfig } from './transfers/transfer-routes.js';

/** A module's command routes with its settings given (app/module.ts binds them). */
export type BoundCommandRoutes = (app: HttpApp, context: CommandRoutesContext) => void | Promise<void>;

/**
 * @deprecated The example's routes, for the tests in commands/transfers/ that call registerCommandApi
 * without `routes` (owned by the process-manager work, which moves them to `routes`): remove then.
 */
const exampleRoutes = (transfers: TransferRoutesConfig | undefined): BoundCommandRoutes[] => {
  const settings = TransferSettings.parse({
    TRANSFER_DEADLINE_MS: transfers?.deadlineMs,
    TRANSFER_WAIT_MAX_SECONDS: transfers?.waitMaxSeconds,
  });
  return [accountCommands, (app, context) => transferCommands(app, context, settings)];
};

/** The write API: every module's command routes, sharing one pipeline and one idempotency store. */
export const registerCommandApi = (
  app: HttpApp,
  deps: {
    eventStore: EventStore;
    maxRetries: number;
    instrumentation?: CommandInstrumentation;
    /** Every module's command routes (routesOf in app/module.ts); each gets a plugin of its own. */
    routes?: readonly BoundCommandRoutes[];
    /** @deprecated With no `routes`: the transfer routes' settings (see exampleRoutes). */
    transfers?: TransferRoutesConfig;
  },
) => {
  const pipeline = createCommandHandler({ eventStore: deps.eventStore, maxRetries: deps.maxRetries });
  const handle = deps.instrumentation ? instrumentCommands(pipeline, deps.instrumentation) : pipeline;
  const run = createHttpCommandRunner({ handle, idempotency: createIdempotencyStore(deps.eventStore) });
  const context: CommandRoutesContext = { run, eventStore: deps.eventStore, logger: app.log };
  // Each in a plugin, so the routes are added after @fastify/swagger has loaded and they appear in
  // /openapi.json: a route added to the root before the app boots is invisible to its onRoute hook.
  for (const routes of deps.routes ?? exampleRoutes(deps.transfers))
    app.register(async (scope: HttpApp) => routes(scope, context));
  return { handle };
};
