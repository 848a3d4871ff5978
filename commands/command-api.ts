import type { EventStore } from '../infra/event-store/event-store.js';
import type { HttpApp } from '../infra/http/create-http-app.js';
import type { CommandRoutesContext } from './command-module.js';
import { createCommandHandler } from './pipeline/handle-command.js';
import { createHttpCommandRunner } from './pipeline/http-command.js';
import { createIdempotencyStore, DEFAULT_IDEMPOTENCY_RETENTION_MS } from './pipeline/idempotency.js';
import { startIdempotencySweep } from './pipeline/idempotency-sweep.js';
import { type CommandInstrumentation, instrumentCommands } from './pipeline/instrument-commands.js';
import type { SnapshotOptions } from './pipeline/snapshots.js';

/** A module's command routes with its settings given (app/module.ts binds them). */
export type BoundCommandRoutes = (app: HttpApp, context: CommandRoutesContext) => void | Promise<void>;

/** The write API: every module's command routes, sharing one pipeline and one idempotency store. */
export const registerCommandApi = (
  app: HttpApp,
  deps: {
    eventStore: EventStore;
    maxRetries: number;
    /** COMMAND_STATE_CACHE_SIZE: streams whose state the pipeline keeps (its default when absent). */
    stateCacheSize?: number;
    instrumentation?: CommandInstrumentation;
    /** Where aggregates with a snapshot policy keep their snapshots; absent: none. */
    snapshots?: SnapshotOptions;
    /** IDEMPOTENCY_RETENTION_HOURS: how long an Idempotency-Key is remembered (default 24 hours). */
    idempotencyRetentionMs?: number;
    /** Every module's command routes (commandRoutesOf in app/module.ts); each gets a plugin of its own. */
    routes: readonly BoundCommandRoutes[];
  },
) => {
  const pipeline = createCommandHandler({
    eventStore: deps.eventStore,
    maxRetries: deps.maxRetries,
    ...(deps.stateCacheSize !== undefined && { stateCacheSize: deps.stateCacheSize }),
    ...(deps.snapshots && { snapshots: deps.snapshots }),
  });
  const handle = deps.instrumentation ? instrumentCommands(pipeline, deps.instrumentation) : pipeline;
  const retentionMs = deps.idempotencyRetentionMs ?? DEFAULT_IDEMPOTENCY_RETENTION_MS;
  const run = createHttpCommandRunner({
    handle,
    idempotency: createIdempotencyStore(deps.eventStore, { retentionMs }),
    idempotencyRetentionMs: retentionMs,
  });
  // The write API is what records keys, so it is what forgets them; stopped before the store closes.
  const idempotencySweep = startIdempotencySweep({
    eventStore: deps.eventStore,
    retentionMs,
    onSwept: (expired, ms) => {
      if (expired > 0) app.log.info({ expired, ms }, 'expired idempotency records deleted');
    },
    onError: (error) =>
      app.log.warn({ err: error }, 'expired idempotency records not deleted; trying again later'),
  });
  app.addHook('onClose', () => idempotencySweep.stop());
  const context: CommandRoutesContext = { run, eventStore: deps.eventStore, logger: app.log };
  // Each in a plugin, so the routes are added after @fastify/swagger has loaded and they appear in
  // /openapi.json: a route added to the root before the app boots is invisible to its onRoute hook.
  for (const routes of deps.routes) app.register(async (scope: HttpApp) => routes(scope, context));
  return { handle, idempotencySweep };
};
