import { isDomainError } from '../../domain/shared/domain-error.js';
import {
  type CommandHandler,
  ConcurrencyConflictError,
  IdempotencyKeyReusedError,
} from './handle-command.js';

/** How one command ended, for metrics. */
export type CommandOutcome = {
  /** The command's `type` (e.g. DepositMoney), or the aggregate's category when it has none. */
  command: string;
  outcome: 'accepted' | 'rejected' | 'failed';
  /**
   * accepted: `appended` (or decided nothing new), `replayed` (an idempotent repeat);
   * rejected: the domain error's code, `concurrency_conflict` or `idempotency_key_reused`;
   * failed: `error` (the store failed; the caller gets a 5xx).
   */
  reason: string;
};

export type CommandInstrumentation = {
  /** Told how every command ended. */
  onOutcome?: (outcome: CommandOutcome) => void;
  /** The W3C traceparent of the active span, stamped on the command's events when it has none. */
  traceparent?: () => string | undefined;
};

const reasonOf = (error: unknown): Pick<CommandOutcome, 'outcome' | 'reason'> => {
  if (isDomainError(error)) return { outcome: 'rejected', reason: error.code };
  if (error instanceof ConcurrencyConflictError)
    return { outcome: 'rejected', reason: 'concurrency_conflict' };
  if (error instanceof IdempotencyKeyReusedError)
    return { outcome: 'rejected', reason: 'idempotency_key_reused' };
  return { outcome: 'failed', reason: 'error' };
};

/**
 * Wraps the pipeline at its one entry point, so every command (from HTTP or from a process
 * manager) is counted and carries the trace it ran in, without the pipeline knowing about either.
 */
export const instrumentCommands =
  (handle: CommandHandler, { onOutcome, traceparent }: CommandInstrumentation): CommandHandler =>
  async (aggregate, id, command, context) => {
    const name = (command as { type?: unknown }).type;
    const commandName = typeof name === 'string' ? name : aggregate.category;
    const traced = context.traceparent ?? traceparent?.();
    try {
      const result = await handle(aggregate, id, command, {
        ...context,
        ...(traced !== undefined && { traceparent: traced }),
      });
      onOutcome?.({
        command: commandName,
        outcome: 'accepted',
        reason: result.replayed ? 'replayed' : 'appended',
      });
      return result;
    } catch (error) {
      onOutcome?.({ command: commandName, ...reasonOf(error) });
      throw error;
    }
  };
