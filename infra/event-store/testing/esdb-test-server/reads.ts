import { status } from '@grpc/grpc-js';
import { defaultAllFilter } from './event-filter.js';
import type { LogPosition } from './log-position.js';
import type { Outbox } from './outbox.js';
import type { ReadResp } from './protos.js';
import type { ReadRequest } from './read-request.js';
import { eventResponse, streamNotFoundResponse } from './read-responses.js';
import type { EventRecord, TransactionLog } from './transaction-log.js';

type ReadStream = Extract<ReadRequest, { kind: 'read-stream' }>;
type ReadAll = Extract<ReadRequest, { kind: 'read-all' }>;

/**
 * Sends `events` one by one as the call takes them, then ends the call: never ends it before
 * everything is out, and stops as soon as the client goes away.
 */
const sendAll = async (
  outbox: Outbox<ReadResp>,
  events: Iterable<EventRecord>,
  toResponse: (event: EventRecord) => ReadResp,
) => {
  for (const event of events) {
    if (!(await outbox.send(toResponse(event)))) return;
  }
  outbox.end();
};

export const readStream = async (log: TransactionLog, request: ReadStream, outbox: Outbox<ReadResp>) => {
  const stream = log.stream(request.streamId);
  if (!stream?.length) {
    // In-band, not a status: the client turns it into StreamNotFoundError.
    await outbox.send(streamNotFoundResponse(request.streamId));
    outbox.end();
    return;
  }
  const last = stream.length - 1;
  const { from, backwards, count } = request;
  // Past `$maxAge`: left out, though the stream and its revisions stay (a read of nothing but
  // expired events answers no events, not stream-not-found). Within a stream `created` only grows,
  // so skipping them is the server's "the range, then drop the expired".
  const cutoff = log.maxAgeCutoff(request.streamId);
  const live = (event: EventRecord) => cutoff === undefined || event.created >= cutoff;
  function* selected() {
    let sent = 0;
    if (backwards) {
      const start = from === 'end' ? last : from === 'start' ? 0 : Math.min(from, last);
      for (let revision = start; revision >= 0 && sent < count; revision--) {
        const event = stream![revision]!;
        if (!live(event)) continue;
        sent++;
        yield event;
      }
    } else if (from !== 'end') {
      const start = from === 'start' ? 0 : from;
      for (let revision = start; revision < stream!.length && sent < count; revision++) {
        const event = stream![revision]!;
        if (!live(event)) continue;
        sent++;
        yield event;
      }
    }
  }
  // A stream read knows where an event was committed only if it committed itself.
  await sendAll(outbox, selected(), (event) => eventResponse(event, request.uuid, event.selfCommitted));
};

/**
 * What an unfiltered read of `$all` answers for a position that is not a record boundary: the
 * reader's InvalidPosition result is not mapped by the read enumerators (only subscriptions map it
 * to INVALID_ARGUMENT), so it reaches the client as UNKNOWN.
 */
export const invalidReadPosition = (position: LogPosition) => ({
  code: status.UNKNOWN,
  details:
    `Unexpected ReadAllResult: InvalidPosition >> No log record starts at ${position.commit} ` +
    '(in EventStoreDB: an InvalidReadException from the chunk reader).',
});

export const readAll = async (log: TransactionLog, request: ReadAll, outbox: Outbox<ReadResp>) => {
  const { backwards, count } = request;
  const from: LogPosition =
    request.from === 'start'
      ? { commit: 0, prepare: 0 }
      : request.from === 'end'
        ? { commit: log.end, prepare: log.end }
        : request.from;
  if (!log.isValidStart(from.commit)) {
    outbox.fail(invalidReadPosition(from));
    return;
  }
  function* selected() {
    let sent = 0;
    if (backwards) {
      for (const event of log.readBackward(from, defaultAllFilter)) {
        if (sent++ >= count) return;
        yield event;
      }
      return;
    }
    // By index into the growing log: events appended while the read is under way are read too,
    // as the server's page-by-page read does.
    for (let i = log.firstAtOrAfter(from); sent < count; i++) {
      const event = log.committedAt(i);
      if (!event) return;
      if (!defaultAllFilter(event)) continue;
      sent += 1;
      yield event;
    }
  }
  await sendAll(outbox, selected(), (event) => eventResponse(event, request.uuid, true));
};
