import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  type EventStore,
  type ExpectedRevision,
  type RecordedEvent,
  WrongExpectedRevisionError,
} from '../../infra/event-store/event-store.js';
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
 *
 * A record is kept for a retention (default 24 hours, as the IETF Idempotency-Key draft suggests):
 * after it, the key is forgotten and a request under it is new. The embedded stores delete expired
 * record streams (idempotency-sweep.ts). On EventStoreDB each record stream carries `$maxAge` (=
 * the retention): reads no longer see an expired record, and a scavenge removes a key's earlier
 * records but never a stream's last event, so each key used keeps one record in the log.
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

/** How long a key is remembered by default: 24 hours, as the IETF draft suggests. */
export const DEFAULT_IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

export const IDEMPOTENCY_STREAM_PREFIX = 'idempotency-';

export const idempotencyStreamId = (key: string) => `${IDEMPOTENCY_STREAM_PREFIX}${sha256(key)}`;

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
 * safe to repeat, and so is the record's append, which expects a revision and so cannot land twice.
 */
export const createIdempotencyStore = (
  eventStore: EventStore,
  {
    unavailable = defaultUnavailableRetry,
    retentionMs = DEFAULT_IDEMPOTENCY_RETENTION_MS,
    now = () => new Date(),
  }: { unavailable?: UnavailableRetry; retentionMs?: number; now?: () => Date } = {},
) => {
  /** Within the retention, by the time the record says it was written (as handle-command.ts judges in-stream keys). */
  const live = (record: RecordedEvent) =>
    now().getTime() - Date.parse(record.metadata.occurredAt) <= retentionMs;
  const read = (streamId: string) =>
    retryWhileUnavailable(() => eventStore.readStream(streamId), unavailable);

  // The latest record decides: after an expired one, a stream may hold a newer record for the key.
  const find = async (key: string, hash: string): Promise<RecordedResponse | undefined> => {
    const streamId = idempotencyStreamId(key);
    const record = (await read(streamId)).at(-1);
    if (!record) return undefined;
    const parsed = IdempotencyRecord.safeParse(record.data);
    if (record.type !== RECORD_TYPE || !parsed.success)
      throw new InvalidIdempotencyRecordError(streamId, parsed.error ?? `event type ${record.type}`);
    if (!live(record)) return undefined;
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
        occurredAt: now().toISOString(),
        schemaVersion: SCHEMA_VERSION,
      },
    };
    const streamId = idempotencyStreamId(key);
    // Before the record, so that no record stream is ever left without its age (a crash between
    // the two leaves metadata for a stream that has no record, a few bytes).
    const setMaxAge = eventStore.setStreamMaxAge?.bind(eventStore);
    if (setMaxAge) await retryWhileUnavailable(() => setMaxAge(streamId, retentionMs), unavailable);
    // Expecting no stream, or after an expired record its revision, rather than 'any': two
    // concurrent repeats cannot both record, and a retry of an append whose answer was lost cannot
    // land twice. On EventStoreDB an expired record is hidden from reads but keeps its revision,
    // which the conflict names; on the embedded stores the sweep may delete it in between, hence
    // a few tries.
    let expectedRevision: ExpectedRevision = 'no_stream';
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await retryWhileUnavailable(
          () => eventStore.append(streamId, [record], { expectedRevision }),
          unavailable,
        );
        return;
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        // A live record is there: a concurrent repeat recorded first, or an earlier try of ours
        // landed with its answer lost. The pipeline already refused a different request under
        // this key, so what is recorded describes the same outcome.
        const latest = (await read(streamId)).at(-1);
        if (latest && live(latest)) return;
        expectedRevision = error.actual;
      }
    }
    // Still racing: without the record, a repeat is recognised by the key its events carry in the
    // stream (handle-command.ts), as when the record could not be written at all.
  };

  return { find, save };
};

export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;
