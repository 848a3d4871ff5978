import { type LogPosition, UNKNOWN_POSITION } from './log-position.js';
import { type ReadResp, sharedPb, streamsPb } from './protos.js';
import type { EventRecord } from './transaction-log.js';

/** How the read request asked for event ids (the client asks for strings). */
export type UuidForm = 'string' | 'structured';

const { ReadResp: Resp } = streamsPb;

/**
 * An event as the server sends it. `positionKnown` is false where the server cannot tell where an
 * event was committed: a legacy transaction's event read from its stream (not from `$all`) goes out
 * with both positions at ulong.MaxValue and `no_position`, as ResolvedEvent does without a commit
 * position.
 */
export const eventResponse = (event: EventRecord, uuid: UuidForm, positionKnown: boolean): ReadResp => {
  const recorded = new Resp.ReadEvent.RecordedEvent()
    .setId(uuidOf(event.eventId, uuid))
    .setStreamIdentifier(new sharedPb.StreamIdentifier().setStreamName(Buffer.from(event.streamId, 'utf8')))
    .setStreamRevision(String(event.revision))
    .setCommitPosition(positionKnown ? String(event.commit) : UNKNOWN_POSITION)
    .setPreparePosition(positionKnown ? String(event.position) : UNKNOWN_POSITION)
    .setData(event.data)
    .setCustomMetadata(event.metadata);
  recorded
    .getMetadataMap()
    .set('type', event.type)
    .set('created', String(event.created))
    .set('content-type', event.isJson ? 'application/json' : 'application/octet-stream');
  const read = new Resp.ReadEvent().setEvent(recorded);
  if (positionKnown) read.setCommitPosition(String(event.commit));
  else read.setNoPosition(new sharedPb.Empty());
  return new Resp().setEvent(read);
};

export const confirmationResponse = (subscriptionId: string): ReadResp =>
  new Resp().setConfirmation(new Resp.SubscriptionConfirmation().setSubscriptionId(subscriptionId));

export const checkpointResponse = ({ commit, prepare }: LogPosition): ReadResp =>
  new Resp().setCheckpoint(
    new Resp.Checkpoint().setCommitPosition(String(commit)).setPreparePosition(String(prepare)),
  );

// Newer servers add a timestamp and the position caught up to; the 6.2.1 protos have an empty message.
export const caughtUpResponse = (): ReadResp => new Resp().setCaughtUp(new Resp.CaughtUp());

export const streamNotFoundResponse = (streamId: string): ReadResp =>
  new Resp().setStreamNotFound(
    new Resp.StreamNotFound().setStreamIdentifier(
      new sharedPb.StreamIdentifier().setStreamName(Buffer.from(streamId, 'utf8')),
    ),
  );

const uuidOf = (id: string, form: UuidForm) => {
  const uuid = new sharedPb.UUID();
  if (form === 'string') return uuid.setString(id);
  // Big-endian halves, as the client reassembles them (parseUUID).
  const bytes = Buffer.from(id.replaceAll('-', ''), 'hex');
  return uuid.setStructured(
    new sharedPb.UUID.Structured()
      .setMostSignificantBits(String(bytes.readBigInt64BE(0)))
      .setLeastSignificantBits(String(bytes.readBigInt64BE(8))),
  );
};
