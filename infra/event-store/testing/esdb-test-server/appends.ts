import type { ServerDuplexStream, ServerReadableStream, sendUnaryData } from '@grpc/grpc-js';
import { Metadata, status } from '@grpc/grpc-js';
import { type OpenStreams, outboxOf, track } from './outbox.js';
import {
  type AppendReq,
  type AppendResp,
  anyPb,
  type BatchAppendReq,
  type BatchAppendResp,
  codePb,
  emptyPb,
  sharedPb,
  statusPb,
  streamsPb,
} from './protos.js';
import type { AppendOutcome, ExpectedRevision, ProposedEvent, TransactionLog } from './transaction-log.js';

type ProposedMessage =
  | InstanceType<typeof streamsPb.AppendReq.ProposedMessage>
  | InstanceType<typeof streamsPb.BatchAppendReq.ProposedMessage>;

class MissingMetadata extends Error {}

const uuidString = (uuid: InstanceType<typeof sharedPb.UUID> | undefined): string => {
  if (!uuid) return '';
  if (uuid.hasString()) return uuid.getString();
  const structured = uuid.getStructured();
  const bytes = Buffer.alloc(16);
  bytes.writeBigInt64BE(BigInt(structured?.getMostSignificantBits() ?? '0'), 0);
  bytes.writeBigInt64BE(BigInt(structured?.getLeastSignificantBits() ?? '0'), 8);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

const proposedEvent = (message: ProposedMessage): ProposedEvent => {
  const metadata = message.getMetadataMap();
  const type = metadata.get('type');
  const contentType = metadata.get('content-type');
  if (type === undefined || contentType === undefined) throw new MissingMetadata();
  return {
    eventId: uuidString(message.getId()),
    type,
    isJson: contentType === 'application/json',
    data: message.getData_asU8(),
    metadata: message.getCustomMetadata_asU8(),
  };
};

const missingMetadataStatus = () => {
  const metadata = new Metadata();
  metadata.set('exception', 'missing-required-metadata-property');
  metadata.set('required-metadata-properties', 'type,content-type');
  return { code: status.INVALID_ARGUMENT, details: "Required Metadata Property 'type' is missing", metadata };
};

const streamName = (identifier: InstanceType<typeof sharedPb.StreamIdentifier> | undefined) =>
  Buffer.from(identifier?.getStreamName_asU8() ?? []).toString('utf8');

/** Append: an options message, then one message per event, then one answer. */
export const append =
  (log: TransactionLog) =>
  async (call: ServerReadableStream<AppendReq, AppendResp>, callback: sendUnaryData<AppendResp>) => {
    try {
      let options: InstanceType<typeof streamsPb.AppendReq.Options> | undefined;
      const events: ProposedEvent[] = [];
      for await (const message of call as AsyncIterable<AppendReq>) {
        if (!options) {
          options = message.getOptions();
          if (!options) throw new Error('The first message of an append must carry its options.');
          continue;
        }
        const proposed = message.getProposedMessage();
        if (!proposed) throw new Error('Every message after the options must be an event.');
        events.push(proposedEvent(proposed));
      }
      if (!options) throw new Error('An append without options.');
      const { Options } = streamsPb.AppendReq;
      const expected: ExpectedRevision =
        options.getExpectedStreamRevisionCase() === Options.ExpectedStreamRevisionCase.REVISION
          ? BigInt(options.getRevision())
          : options.hasNoStream()
            ? 'no_stream'
            : options.hasStreamExists()
              ? 'stream_exists'
              : 'any';
      const outcome = log.append(streamName(options.getStreamIdentifier()), expected, events);
      callback(null, appendResponse(outcome, expected));
    } catch (error) {
      if (error instanceof MissingMetadata) callback(missingMetadataStatus());
      else if (!call.cancelled)
        callback({ code: status.UNKNOWN, details: 'Exception was thrown by handler.' });
    }
  };

/** The answer to Append: a wrong expected revision is an answer, not an error status. */
const appendResponse = (outcome: AppendOutcome, expected: ExpectedRevision): AppendResp => {
  const { AppendResp: Resp } = streamsPb;
  if (outcome.ok) {
    const success = new Resp.Success();
    if (outcome.currentRevision === undefined) success.setNoStream(new sharedPb.Empty());
    else success.setCurrentRevision(String(outcome.currentRevision));
    if (outcome.position === undefined) success.setNoPosition(new sharedPb.Empty());
    else {
      success.setPosition(
        new Resp.Position()
          .setCommitPosition(String(outcome.position))
          .setPreparePosition(String(outcome.position)),
      );
    }
    return new Resp().setSuccess(success);
  }
  // Only the current fields: the 20.6-era duplicates are read by no client this server is for.
  const wrong = new Resp.WrongExpectedVersion();
  if (expected === 'any') wrong.setExpectedAny(new sharedPb.Empty());
  else if (expected === 'stream_exists') wrong.setExpectedStreamExists(new sharedPb.Empty());
  else if (expected === 'no_stream') wrong.setExpectedNoStream(new sharedPb.Empty());
  else wrong.setExpectedRevision(String(expected));
  if (outcome.currentRevision === undefined) wrong.setCurrentNoStream(new sharedPb.Empty());
  else wrong.setCurrentRevision(String(outcome.currentRevision));
  return new Resp().setWrongExpectedVersion(wrong);
};

/**
 * BatchAppend: one long-lived bidi call per client connection; each append is identified by a
 * correlation id, may come in several messages (options on the first, is_final on the last), and
 * gets one answer on the same call, an error being a google.rpc.Status with packed details.
 */
export const batchAppend =
  (log: TransactionLog, streams: OpenStreams) =>
  async (call: ServerDuplexStream<BatchAppendReq, BatchAppendResp>) => {
    const outbox = outboxOf<BatchAppendResp>(call);
    track(streams, outbox, 'other');
    const pending = new Map<
      string,
      { streamId: string; expected: ExpectedRevision; events: ProposedEvent[] }
    >();
    try {
      for await (const request of call as AsyncIterable<BatchAppendReq>) {
        const correlation = request.getCorrelationId();
        const id = uuidString(correlation);
        const options = request.getOptions();
        if (options && !pending.has(id)) {
          const { Options } = streamsPb.BatchAppendReq;
          const expected: ExpectedRevision =
            options.getExpectedStreamPositionCase() === Options.ExpectedStreamPositionCase.STREAM_POSITION
              ? BigInt(options.getStreamPosition())
              : options.hasNoStream()
                ? 'no_stream'
                : options.hasStreamExists()
                  ? 'stream_exists'
                  : 'any';
          pending.set(id, { streamId: streamName(options.getStreamIdentifier()), expected, events: [] });
        }
        const write = pending.get(id);
        if (!write) continue;
        const response = new streamsPb.BatchAppendResp()
          .setCorrelationId(correlation)
          .setStreamIdentifier(
            new sharedPb.StreamIdentifier().setStreamName(Buffer.from(write.streamId, 'utf8')),
          );
        try {
          write.events.push(...request.getProposedMessagesList().map(proposedEvent));
        } catch (error) {
          if (!(error instanceof MissingMetadata)) throw error;
          pending.delete(id);
          await outbox.send(response.setError(badRequest("Required Metadata Property 'type' is missing")));
          continue;
        }
        if (!request.getIsFinal()) continue;
        pending.delete(id);
        const outcome = log.append(write.streamId, write.expected, write.events);
        if (outcome.ok) response.setSuccess(batchSuccess(outcome));
        else response.setError(wrongExpectedVersion(outcome.currentRevision, write.expected));
        if (!(await outbox.send(response))) return;
      }
      outbox.end();
    } catch {
      outbox.fail({ code: status.UNKNOWN, details: 'Exception was thrown by handler.' });
    }
  };

const batchSuccess = (outcome: Extract<AppendOutcome, { ok: true }>) => {
  const success = new streamsPb.BatchAppendResp.Success();
  if (outcome.currentRevision === undefined) success.setNoStream(new emptyPb.Empty());
  else success.setCurrentRevision(String(outcome.currentRevision));
  if (outcome.position === undefined) success.setNoPosition(new emptyPb.Empty());
  else {
    success.setPosition(
      new sharedPb.AllStreamPosition()
        .setCommitPosition(String(outcome.position))
        .setPreparePosition(String(outcome.position)),
    );
  }
  return success;
};

const packed = (
  code: number,
  message: string,
  details: { serializeBinary(): Uint8Array },
  typeName: string,
) => {
  const any = new anyPb.Any();
  any.pack(details.serializeBinary(), typeName);
  return new statusPb.Status().setCode(code).setMessage(message).setDetails(any);
};

const wrongExpectedVersion = (current: number | undefined, expected: ExpectedRevision) => {
  const details = new sharedPb.WrongExpectedVersion();
  if (current === undefined) details.setCurrentNoStream(new emptyPb.Empty());
  else details.setCurrentStreamRevision(String(current));
  if (expected === 'any') details.setExpectedAny(new emptyPb.Empty());
  else if (expected === 'no_stream') details.setExpectedNoStream(new emptyPb.Empty());
  else if (expected === 'stream_exists') details.setExpectedStreamExists(new emptyPb.Empty());
  else details.setExpectedStreamPosition(String(expected));
  return packed(
    codePb.Code.ALREADY_EXISTS,
    'WrongExpectedVersion',
    details,
    'event_store.client.WrongExpectedVersion',
  );
};

const badRequest = (message: string) =>
  packed(
    codePb.Code.INVALID_ARGUMENT,
    'BadRequest',
    new sharedPb.BadRequest().setMessage(message),
    'event_store.client.BadRequest',
  );
