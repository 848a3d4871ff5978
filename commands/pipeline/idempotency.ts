import { createHash, randomUUID } from 'node:crypto';
import { type EventStore, WrongExpectedRevisionError } from '../../infra/event-store/event-store.js';
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
export type RecordedResponse = { status: number; body: unknown };

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7E]{1,255}$/;

const RECORD_TYPE = 'IdempotentResponseRecorded';

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

export const createIdempotencyStore = (eventStore: EventStore) => {
  const find = async (key: string, hash: string): Promise<RecordedResponse | undefined> => {
    const [record] = await eventStore.readStream(idempotencyStreamId(key));
    if (!record) return undefined;
    const data = record.data as { requestHash: string; response: RecordedResponse };
    if (data.requestHash !== hash) throw new IdempotencyKeyReusedError(key);
    return data.response;
  };

  const save = async (
    key: string,
    hash: string,
    response: RecordedResponse,
    context: { correlationId: string; causationId: string },
  ): Promise<void> => {
    try {
      await eventStore.append(
        idempotencyStreamId(key),
        [
          {
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
          },
        ],
        { expectedRevision: 'no_stream' },
      );
    } catch (error) {
      // A concurrent repeat recorded it first. The pipeline already refused a different request
      // under this key, so what is recorded describes the same outcome.
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
    }
  };

  return { find, save };
};

export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;
