import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Aggregate, stateFrom, streamIdFor } from '../../domain/shared/decider.js';
import {
  type EventStore,
  type Position,
  type RecordedEvent,
  WrongExpectedRevisionError,
} from '../../infra/event-store/event-store.js';

/** Where a command came from: copied into the metadata of every event it appends. */
export type CommandContext = {
  correlationId: string;
  /** The id of the message that caused this command: the HTTP request, or the event a saga reacted to. */
  causationId: string;
  /** Given by the caller; a repeat of a command with the same key appends nothing. */
  idempotency?: { key: string; requestHash: string };
  traceparent?: string;
  now?: () => Date;
};

export type CommandResult = {
  streamId: string;
  /** Revision of the stream's last event after the command. */
  revision: number;
  position: Position;
  /** True when an earlier command with the same idempotency key had already appended these events. */
  replayed: boolean;
};

export type CommandPipelineOptions = {
  eventStore: EventStore;
  /** Re-reads after a concurrency conflict before giving up with ConcurrencyConflictError. */
  maxRetries: number;
  /** Base of the jittered exponential backoff between retries. */
  backoffMs?: number;
};

/** Retries ran out: other writers kept changing the stream between our read and our append. */
export class ConcurrencyConflictError extends Error {
  override readonly name = 'ConcurrencyConflictError';

  constructor(
    readonly streamId: string,
    readonly attempts: number,
  ) {
    super(`stream ${streamId} kept changing; gave up after ${attempts} attempts`);
  }
}

/** The same idempotency key came with a different request. */
export class IdempotencyKeyReusedError extends Error {
  override readonly name = 'IdempotencyKeyReusedError';

  constructor(readonly key: string) {
    super('this Idempotency-Key was already used for a different request');
  }
}

export const SCHEMA_VERSION = 1;

/**
 * The command pipeline: read the stream, fold it into state, decide, append with the revision we
 * read. A conflicting append means someone else wrote in between; we read again and decide again,
 * since their events may change the answer (the balance moved, the account closed).
 *
 * Idempotency lives in the stream itself: every event records the key of the command that
 * appended it, so a repeat finds its own earlier events and returns their result instead of
 * deciding again. Because this check happens inside the optimistic-concurrency loop, two
 * concurrent repeats cannot both append.
 */
export const createCommandHandler =
  ({ eventStore, maxRetries, backoffMs = 5 }: CommandPipelineOptions) =>
  async <Command, Event extends { type: string; data: unknown }, State>(
    aggregate: Aggregate<Command, Event, State>,
    id: string,
    command: Command,
    context: CommandContext,
  ): Promise<CommandResult> => {
    const streamId = streamIdFor(aggregate, id);
    for (let attempt = 1; ; attempt++) {
      const history = await eventStore.readStream(streamId);
      const last = history.at(-1);

      if (context.idempotency) {
        const earlier = findByIdempotencyKey(history, context.idempotency.key);
        if (earlier && earlier.metadata.requestHash !== context.idempotency.requestHash)
          throw new IdempotencyKeyReusedError(context.idempotency.key);
        if (earlier)
          return { streamId, revision: earlier.revision, position: earlier.position, replayed: true };
      }

      const state = stateFrom(aggregate, history);
      const events = aggregate.decider.decide(command, state);
      if (events.length === 0) {
        if (last) return { streamId, revision: last.revision, position: last.position, replayed: false };
        throw new Error(`${aggregate.category} decider decided nothing for a new stream`);
      }

      const occurredAt = (context.now?.() ?? new Date()).toISOString();
      try {
        const { nextRevision, position } = await eventStore.append(
          streamId,
          events.map(({ type, data }) => ({
            type,
            data,
            metadata: {
              eventId: randomUUID(),
              correlationId: context.correlationId,
              causationId: context.causationId,
              ...(context.idempotency && {
                idempotencyKey: context.idempotency.key,
                requestHash: context.idempotency.requestHash,
              }),
              ...(context.traceparent !== undefined && { traceparent: context.traceparent }),
              occurredAt,
              schemaVersion: SCHEMA_VERSION,
            },
          })),
          { expectedRevision: last ? last.revision : 'no_stream' },
        );
        return { streamId, revision: nextRevision, position, replayed: false };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (attempt > maxRetries) throw new ConcurrencyConflictError(streamId, attempt);
        // Full jitter: spreads retrying writers out so they stop colliding.
        await sleep(Math.random() * backoffMs * 2 ** Math.min(attempt, 6));
      }
    }
  };

export type CommandHandler = ReturnType<typeof createCommandHandler>;

const findByIdempotencyKey = (history: readonly RecordedEvent[], key: string): RecordedEvent | undefined => {
  let found: RecordedEvent | undefined;
  for (const event of history) if (event.metadata.idempotencyKey === key) found = event;
  return found;
};
