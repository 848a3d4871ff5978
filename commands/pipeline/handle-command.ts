import { randomUUID } from 'node:crypto';
import { type Aggregate, stateFrom, streamIdFor } from '../../domain/shared/decider.js';
import {
  type EventStore,
  isEventStoreUnavailable,
  type Position,
  type RecordedEvent,
  WrongExpectedRevisionError,
} from '../../infra/event-store/event-store.js';
import { backoffDelayMs, sleep } from '../../infra/retry/backoff.js';
import { defaultUnavailableRetry, pipelineBackoff, type UnavailableRetry } from './backoff.js';

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
  /** Base of the jittered exponential backoff between retries (see pipelineBackoff). */
  backoffMs?: number;
  /** Tries of a command while the event store cannot be reached (EventStoreUnavailableError). */
  unavailable?: UnavailableRetry;
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
 *
 * A store that cannot be reached (EventStoreUnavailableError) is tried again a few times, with the
 * same backoff, before the error is thrown. An append that failed so may have landed, its answer
 * lost: the next read looks for its events by id, and if they are there, they are this command's
 * result. If they are not, deciding again is safe: both appends expect the same revision, so at
 * most one of them can land, and a late landing of the first is found by the same look.
 */
export const createCommandHandler =
  ({
    eventStore,
    maxRetries,
    backoffMs = 5,
    unavailable = defaultUnavailableRetry,
  }: CommandPipelineOptions) =>
  async <Command, Event extends { type: string; data: unknown }, State>(
    aggregate: Aggregate<Command, Event, State>,
    id: string,
    command: Command,
    context: CommandContext,
  ): Promise<CommandResult> => {
    const streamId = streamIdFor(aggregate, id);
    /** The id of the last event of each append whose answer was lost: any of them may have landed. */
    const unanswered: string[] = [];
    let outages = 0;
    /** Pauses before the next try if the store was away and tries are left; throws otherwise. */
    const afterOutage = async (error: unknown) => {
      if (!isEventStoreUnavailable(error) || ++outages >= unavailable.attempts) throw error;
      await sleep(backoffDelayMs(outages, pipelineBackoff(unavailable.backoffMs)));
    };

    for (let conflicts = 0; ; ) {
      let history: RecordedEvent[];
      try {
        history = await eventStore.readStream(streamId);
      } catch (error) {
        await afterOutage(error);
        continue;
      }
      const last = history.at(-1);

      const landed = unanswered.length > 0 ? findByEventId(history, unanswered) : undefined;
      if (landed) return { streamId, revision: landed.revision, position: landed.position, replayed: false };

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
      const eventIds = events.map(() => randomUUID());
      try {
        const { nextRevision, position } = await eventStore.append(
          streamId,
          events.map(({ type, data }, i) => ({
            type,
            data,
            metadata: {
              eventId: eventIds[i] as string,
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
        if (error instanceof WrongExpectedRevisionError) {
          if (++conflicts > maxRetries) throw new ConcurrencyConflictError(streamId, conflicts);
          await sleep(backoffDelayMs(conflicts, pipelineBackoff(backoffMs)));
          continue;
        }
        if (isEventStoreUnavailable(error)) unanswered.push(eventIds.at(-1) as string);
        await afterOutage(error);
      }
    }
  };

export type CommandHandler = ReturnType<typeof createCommandHandler>;

const findByEventId = (history: readonly RecordedEvent[], ids: readonly string[]) =>
  history.find((event) => ids.includes(event.metadata.eventId));

const findByIdempotencyKey = (history: readonly RecordedEvent[], key: string): RecordedEvent | undefined => {
  let found: RecordedEvent | undefined;
  for (const event of history) if (event.metadata.idempotencyKey === key) found = event;
  return found;
};
