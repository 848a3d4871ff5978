import { isDomainError } from '../../domain/shared/domain-error.js';
import { UnknownEventVersionError } from '../../domain/shared/event-versions.js';
import { isCorruptEvent, isEventStoreUnavailable } from '../../infra/event-store/event-store.js';
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
   * failed: `event_store_unavailable` (the caller gets a 503 and may retry),
   * `stored_event_damaged`, `stored_event_version_unknown`, or `error` for anything else (a 5xx).
   * The reasons are what an alert tells apart: an outage, damage a person must restore, or a bug.
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
  if (isEventStoreUnavailable(error)) return { outcome: 'failed', reason: 'event_store_unavailable' };
  if (isCorruptEvent(error)) return { outcome: 'failed', reason: 'stored_event_damaged' };
  if (error instanceof UnknownEventVersionError)
    return { outcome: 'failed', reason: 'stored_event_version_unknown' };
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
