import { z } from 'zod';
import type { CommandRoutes } from '../command-module.js';
import { processManagerStarter } from '../process-manager/starter.js';
import { createTransferOutcomes } from './transfer-outcomes.js';
import { transferProcess } from './transfer-process.js';
import { transferCommandRoutes } from './transfer-routes.js';

/**
 * The transfers module's part of the write side (composed into the module in
 * app/modules/transfers.ts): its settings, its command route and its process manager.
 */

/** The transfers module's settings, read from the environment with the rest (app/config.ts). */
export const TransferSettings = z.object({
  /** A transfer still pending this long after it was requested is failed (and its source refunded). */
  TRANSFER_DEADLINE_MS: z.coerce.number().int().min(100).max(86_400_000).default(60_000),
  /** The longest `Prefer: wait=N` on POST /transfers is honoured for; a larger N is capped to it. */
  TRANSFER_WAIT_MAX_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  /**
   * Requests waiting for an outcome at once; one more is answered 202 at once, not waited for.
   * Each holds a connection: keep it well under HTTP_MAX_CONNECTIONS (1000 by default).
   */
  TRANSFER_WAIT_MAX_WAITERS: z.coerce.number().int().min(1).max(1_000_000).default(250),
  /** Transfers the transfer process drives at once. */
  TRANSFER_PROCESS_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
});
export type TransferSettings = z.infer<typeof TransferSettings>;

/** POST /transfers, with `Prefer: wait` answered from the transfer's outcome. */
export const transferCommands: CommandRoutes<TransferSettings> = (app, { run, eventStore }, settings) => {
  const outcomes = createTransferOutcomes({ eventStore, logger: app.log });
  // Before the server drains its connections: a request waiting on an outcome answers 202 at once.
  app.addHook('preClose', async () => outcomes.stop());
  transferCommandRoutes(app, {
    run,
    outcomes,
    eventStore,
    config: {
      deadlineMs: settings.TRANSFER_DEADLINE_MS,
      waitMaxSeconds: settings.TRANSFER_WAIT_MAX_SECONDS,
      waitMaxWaiters: settings.TRANSFER_WAIT_MAX_WAITERS,
    },
  });
};

/** The transfer saga: withdraws, deposits, refunds when a later step fails or the deadline passes. */
export const transferProcessManager = processManagerStarter<TransferSettings>({
  name: 'transfer-process',
  definition: transferProcess,
  config: (settings) => ({ concurrency: settings.TRANSFER_PROCESS_CONCURRENCY }),
});
