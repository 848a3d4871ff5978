import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { defaultAllFilter, type EventFilter, expressionFilter } from './event-filter.js';
import { createLiveQueue } from './live-queue.js';
import {
  comparePositions,
  FIRST_RECORD,
  HEAD_OF_LOG,
  isAtOrBefore,
  isBefore,
  type LogPosition,
} from './log-position.js';
import type { CallStatus, Outbox } from './outbox.js';
import type { ReadResp } from './protos.js';
import { DEFAULT_READ_BATCH_SIZE, type ReadRequest } from './read-request.js';
import {
  caughtUpResponse,
  checkpointResponse,
  confirmationResponse,
  eventResponse,
} from './read-responses.js';
import type { EventRecord, TransactionLog } from './transaction-log.js';

/**
 * Catch-up subscriptions, placed as the server's enumerators place things (Enumerator.AllSubscription,
 * AllSubscriptionFiltered and StreamSubscription in KurrentDB 24.10.5+ and 25.0.1+): register for live events first,
 * confirm, catch up page by page from the log, then serve the live buffer, falling back to catching
 * up when that buffer overflowed. See server.ts for where each rule comes from.
 */

type SubscribeAll = Extract<ReadRequest, { kind: 'subscribe-all' }>;
type SubscribeStream = Extract<ReadRequest, { kind: 'subscribe-stream' }>;

type LiveItem = { event: EventRecord } | { checkpoint: LogPosition };

const positionOf = (event: EventRecord): LogPosition => ({ commit: event.commit, prepare: event.position });

/** What the server answers when a subscription starts at a position that is not a record boundary. */
export const invalidSubscriptionPosition: CallStatus = {
  code: status.INVALID_ARGUMENT,
  details: 'Trying to read from an invalid position.',
};

/** Ends the loop below once the call is over. */
class CallOver extends Error {}

export const subscribeToAll = async (
  log: TransactionLog,
  request: SubscribeAll,
  outbox: Outbox<ReadResp>,
  { issue4970 }: { issue4970: boolean },
) => {
  const filtered = request.filter !== undefined;
  const allowed: EventFilter = request.filter ? expressionFilter(request.filter) : defaultAllFilter;
  const window = request.filter?.window ?? Number.MAX_SAFE_INTEGER;
  const pageSize = DEFAULT_READ_BATCH_SIZE;
  const checkpointInterval = request.filter ? request.filter.window * request.filter.multiplier : 0;

  // Live registration comes first, so nothing committed from here on is missed. Every committed
  // event counts towards the live checkpoint interval, matching or not, and the checkpoint sits at
  // the event that completes the interval (SubscriptionsService.ProcessEventCommitted).
  const live = createLiveQueue<LiveItem>();
  let liveCounter = 0;
  const stopListening = log.onCommitted((event) => {
    if (allowed(event)) live.push({ event });
    if (!filtered) return;
    liveCounter += 1;
    if (liveCounter >= checkpointInterval) {
      live.push({ checkpoint: positionOf(event) });
      liveCounter = 0;
    }
  });
  const confirmationLastPos: LogPosition = {
    commit: log.lastIndexedPosition,
    prepare: log.lastIndexedPosition,
  };

  // Towards the client: an event at or before the last one sent is never sent again, nor a
  // checkpoint at or before the last checkpoint (the enumerator's MoveNextAsync).
  let lastEvent: LogPosition | undefined;
  let lastCheckpoint: LogPosition | undefined;
  const send = async (response: ReadResp) => {
    if (!(await outbox.send(response))) throw new CallOver();
  };
  const sendEvent = async (event: EventRecord) => {
    const position = positionOf(event);
    if (lastEvent && isAtOrBefore(position, lastEvent)) return;
    lastEvent = position;
    await send(eventResponse(event, request.uuid, true));
  };
  const sendCheckpoint = async (position: LogPosition) => {
    if (comparePositions(position, HEAD_OF_LOG) === 0) return;
    if (lastCheckpoint && isAtOrBefore(position, lastCheckpoint)) return;
    lastCheckpoint = position;
    await send(checkpointResponse(position));
  };

  const catchUp = async (from: LogPosition): Promise<LogPosition> => {
    let checkpoint = from;
    let counter = 0;
    let readFrom = comparePositions(from, HEAD_OF_LOG) === 0 ? FIRST_RECORD : from;
    for (;;) {
      const page = log.readForward(readFrom, pageSize, window, allowed);
      for (const event of page.events) {
        // Only the first page can hold the start position itself.
        if (isAtOrBefore(positionOf(event), checkpoint)) continue;
        await sendEvent(event);
        checkpoint = positionOf(event);
      }
      if (!filtered) {
        if (page.isEndOfStream) return checkpoint;
        readFrom = page.nextPos;
        continue;
      }
      counter += page.considered;
      const sendNow = page.isEndOfStream || counter >= checkpointInterval;
      if (issue4970) {
        // KurrentDB 25.0.0: the page start counts whenever a checkpoint is sent, also when the page
        // was empty, which at the end of catch-up is the end of the log.
        if (sendNow && isBefore(checkpoint, page.currentPos)) checkpoint = page.currentPos;
      } else if (isBefore(checkpoint, page.currentPos) && isBefore(page.currentPos, page.nextPos)) {
        // Everything before the page just read has been looked at: its start is a checkpoint, unless
        // the page was empty (then its start is where the next event will be written).
        checkpoint = page.currentPos;
      }
      if (page.isEndOfStream) {
        if (!issue4970 && isBefore(checkpoint, FIRST_RECORD) && isBefore(FIRST_RECORD, page.nextPos)) {
          checkpoint = FIRST_RECORD;
        }
        await sendCheckpoint(checkpoint);
        return checkpoint;
      }
      if (counter >= checkpointInterval) {
        counter %= checkpointInterval;
        await sendCheckpoint(checkpoint);
      }
      readFrom = page.nextPos;
    }
  };

  const goLive = async (from: LogPosition, lastSeq: number): Promise<[LogPosition, number]> => {
    let checkpoint = from;
    let seq = lastSeq;
    await send(caughtUpResponse());
    for (;;) {
      const next = await live.next();
      if (!next) throw new CallOver();
      const inOrder = next.seq === seq + 1;
      seq = next.seq;
      const { item } = next;
      if ('event' in item && isAtOrBefore(positionOf(item.event), checkpoint)) continue;
      if ('checkpoint' in item && isBefore(item.checkpoint, checkpoint)) continue;
      if (!inOrder) {
        // Live events were dropped: catch up from the log again, with a checkpoint first so one
        // still comes within the interval.
        if (filtered) await sendCheckpoint(checkpoint);
        return [checkpoint, seq];
      }
      if ('event' in item) {
        await sendEvent(item.event);
        checkpoint = positionOf(item.event);
      } else {
        await sendCheckpoint(item.checkpoint);
        checkpoint = item.checkpoint;
      }
    }
  };

  void outbox.closed.then(() => live.close());
  try {
    await send(confirmationResponse(randomUUID()));
    const { from } = request;
    if (typeof from === 'object' && !log.isValidStart(from.commit)) {
      outbox.fail(invalidSubscriptionPosition);
      return;
    }
    let checkpoint = from === 'start' ? HEAD_OF_LOG : from === 'end' ? confirmationLastPos : from;
    let seq = 0;
    if (!isBefore(checkpoint, confirmationLastPos)) [checkpoint, seq] = await goLive(checkpoint, seq);
    for (;;) {
      checkpoint = await catchUp(checkpoint);
      [checkpoint, seq] = await goLive(checkpoint, seq);
    }
  } catch (error) {
    if (!(error instanceof CallOver)) outbox.fail({ code: status.UNKNOWN, details: String(error) });
  } finally {
    stopListening();
    live.close();
  }
};

/** A subscription to one stream: revisions instead of positions, no filter, no checkpoints. */
export const subscribeToStream = async (
  log: TransactionLog,
  request: SubscribeStream,
  outbox: Outbox<ReadResp>,
) => {
  const { streamId, uuid } = request;
  const live = createLiveQueue<EventRecord>();
  const stopListening = log.onCommitted((event) => {
    if (event.streamId === streamId) live.push(event);
  });
  const confirmationLast = (log.stream(streamId)?.length ?? 0) - 1;
  const send = async (response: ReadResp) => {
    if (!(await outbox.send(response))) throw new CallOver();
  };
  const sendEvent = (event: EventRecord, positionKnown: boolean) =>
    send(eventResponse(event, uuid, positionKnown));

  const catchUp = async (from: number) => {
    let checkpoint = from;
    for (;;) {
      const event = log.stream(streamId)?.[checkpoint + 1];
      if (!event) return checkpoint;
      await sendEvent(event, event.selfCommitted);
      checkpoint = event.revision;
    }
  };
  const goLive = async (from: number, lastSeq: number): Promise<[number, number]> => {
    let [checkpoint, seq] = [from, lastSeq];
    await send(caughtUpResponse());
    for (;;) {
      const next = await live.next();
      if (!next) throw new CallOver();
      const inOrder = next.seq === seq + 1;
      seq = next.seq;
      if (next.item.revision <= checkpoint) continue;
      if (!inOrder) return [checkpoint, seq];
      await sendEvent(next.item, true);
      checkpoint = next.item.revision;
    }
  };

  void outbox.closed.then(() => live.close());
  try {
    await send(confirmationResponse(randomUUID()));
    let checkpoint = request.from === 'start' ? -1 : request.from === 'end' ? confirmationLast : request.from;
    let seq = 0;
    if (checkpoint >= confirmationLast) [checkpoint, seq] = await goLive(checkpoint, seq);
    for (;;) {
      checkpoint = await catchUp(checkpoint);
      [checkpoint, seq] = await goLive(checkpoint, seq);
    }
  } catch (error) {
    if (!(error instanceof CallOver)) outbox.fail({ code: status.UNKNOWN, details: String(error) });
  } finally {
    stopListening();
    live.close();
  }
};
