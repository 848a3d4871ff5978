import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type EventStore, WrongExpectedRevisionError } from '../../infra/event-store/event-store.js';
import { defaultUnavailableRetry, retryWhileUnavailable, type UnavailableRetry } from './backoff.js';
import { IdempotencyKeyReusedError, SCHEMA_VERSION } from './handle-command.js';

/**
 * Durable idempotency for HTTP commands, kept in the event store itself so it survives restarts
 * and needs no other database: the first successful response to a key is recorded in a stream of
 * its own, `idempotency-<sha256(key)>`.
 *
 * The record is written after the command's events. If the process dies in between, the retry
 * finds no record, runs the command again, and the pipeline finds the events that carry the key
 * (handle-command.ts) and answers with their result: still exactly once. Rejected commands (4xx)
 * append nothing and record nothing, so retrying one decides again.
 */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7E]{1,255}$/;

const RECORD_TYPE = 'IdempotentResponseRecorded';

/** A successful response, the only kind recorded. */
export const RecordedResponse = z.object({ status: z.number().int().min(200).max(299), body: z.unknown() });
export type RecordedResponse = z.infer<typeof RecordedResponse>;

/** The data of an idempotency record: the hash of the request that set it, and its response. */
export const IdempotencyRecord = z.object({ requestHash: z.string(), response: RecordedResponse });
export type IdempotencyRecord = z.infer<typeof IdempotencyRecord>;

/**
 * An idempotency record that is not one: written by something else, or damaged. Neither replaying
 * it nor running the command again would be safe, so the request fails as a server fault.
 */
export class InvalidIdempotencyRecordError extends Error {
  override readonly name = 'InvalidIdempotencyRecordError';

  constructor(
    readonly streamId: string,
    cause: unknown,
  ) {
    super(`${streamId} does not hold a valid ${RECORD_TYPE} record`, { cause });
  }
}

/** Hex sha256 of a text: the one hash behind idempotency streams, request hashes and derived ids. */
export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export const idempotencyStreamId = (key: string) => `idempotency-${sha256(key)}`;

/** What makes two requests "the same": method, path and the validated command, in a fixed key order. */
export const requestHash = (method: string, path: string, command: unknown) =>
  sha256(JSON.stringify([method, path, command]));

/**
 * The id of an entity a command creates: derived from the Idempotency-Key when there is one, so a
 * retried create without a client-chosen id lands on the same entity; random otherwise.
 */
export const idFromIdempotencyKey = (prefix: string, key: string | undefined) =>
  key === undefined ? randomUUID() : `${prefix}-${sha256(key).slice(0, 32)}`;

/**
 * Both calls are tried again while the event store cannot be reached (`unavailable`): a read is
 * safe to repeat, and so is the record's append, which expects no stream and so cannot land twice.
 */
export const createIdempotencyStore = (
  eventStore: EventStore,
  { unavailable = defaultUnavailableRetry }: { unavailable?: UnavailableRetry } = {},
) => {
  const find = async (key: string, hash: string): Promise<RecordedResponse | undefined> => {
    const streamId = idempotencyStreamId(key);
    const [record] = await retryWhileUnavailable(() => eventStore.readStream(streamId), unavailable);
    if (!record) return undefined;
    const parsed = IdempotencyRecord.safeParse(record.data);
    if (record.type !== RECORD_TYPE || !parsed.success)
      throw new InvalidIdempotencyRecordError(streamId, parsed.error ?? `event type ${record.type}`);
    if (parsed.data.requestHash !== hash) throw new IdempotencyKeyReusedError(key);
    return parsed.data.response;
  };

  const save = async (
    key: string,
    hash: string,
    response: RecordedResponse,
    context: { correlationId: string; causationId: string },
  ): Promise<void> => {
    const record = {
      type: RECORD_TYPE,
      data: { requestHash: hash, response },
      metadata: {
        eventId: randomUUID(),
        ...context,
        idempotencyKey: key,
        requestHash: hash,
        occurredAt: new Date().toISOString(),
        schemaVersion: SCHEMA_VERSION,
      },
    };
    try {
      await retryWhileUnavailable(
        () => eventStore.append(idempotencyStreamId(key), [record], { expectedRevision: 'no_stream' }),
        unavailable,
      );
    } catch (error) {
      // A concurrent repeat recorded it first, or an earlier try of ours landed with its answer
      // lost. The pipeline already refused a different request under this key, so what is
      // recorded describes the same outcome.
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
    }
  };

  return { find, save };
};

export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;
