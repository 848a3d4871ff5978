import type { EventStore } from '../infra/event-store/event-store.js';
import type { HttpApp } from '../infra/http/create-http-app.js';
import { accountCommandRoutes } from './accounts/account-routes.js';
import { createCommandHandler } from './pipeline/handle-command.js';
import { createHttpCommandRunner } from './pipeline/http-command.js';
import { createIdempotencyStore } from './pipeline/idempotency.js';
import { type CommandInstrumentation, instrumentCommands } from './pipeline/instrument-commands.js';
import { createTransferOutcomes } from './transfers/transfer-outcomes.js';
import {
  defaultTransferRoutesConfig,
  type TransferRoutesConfig,
  transferCommandRoutes,
} from './transfers/transfer-routes.js';

/** The write API: every command route, sharing one pipeline and one idempotency store. */
export const registerCommandApi = (
  app: HttpApp,
  deps: {
    eventStore: EventStore;
    maxRetries: number;
    instrumentation?: CommandInstrumentation;
    /** TRANSFER_DEADLINE_MS and TRANSFER_WAIT_MAX_SECONDS; their config defaults when absent. */
    transfers?: TransferRoutesConfig;
  },
) => {
  const pipeline = createCommandHandler({ eventStore: deps.eventStore, maxRetries: deps.maxRetries });
  const handle = deps.instrumentation ? instrumentCommands(pipeline, deps.instrumentation) : pipeline;
  const run = createHttpCommandRunner({ handle, idempotency: createIdempotencyStore(deps.eventStore) });
  // Inside a plugin, so the routes are added after @fastify/swagger has loaded and they appear in
  // /openapi.json: a route added to the root before the app boots is invisible to its onRoute hook.
  app.register(async (scope: HttpApp) => accountCommandRoutes(scope, run));
  const outcomes = createTransferOutcomes({ eventStore: deps.eventStore, logger: app.log });
  // Before the server drains its connections: a request waiting on an outcome answers 202 at once.
  app.addHook('preClose', async () => outcomes.stop());
  app.register(async (scope: HttpApp) =>
    transferCommandRoutes(scope, {
      run,
      outcomes,
      eventStore: deps.eventStore,
      config: deps.transfers ?? defaultTransferRoutesConfig,
    }),
  );
  return { handle };
};
