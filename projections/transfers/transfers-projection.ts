import { streamIdFor } from '../../domain/shared/decider.js';
import {
  type TransferEvent,
  type TransferFailureReason,
  transferAggregate,
  transferEventTypes,
} from '../../domain/transfers/transfer.js';
import type { RecordedEvent } from '../../infra/event-store/event-store.js';
import type { Document } from '../../infra/read-store/read-store.js';
import { occurredAt } from '../engine/event-time.js';
import { guardedUpsert } from '../engine/guarded-upsert.js';
import type { Projection } from '../engine/projection.js';

export const TRANSFERS_PROJECTION = 'transfers';
export const TRANSFERS = 'transfers';
const TRANSFER_STREAM_PREFIX = `${transferAggregate.category}-`;

/** One per transfer: where it stands as of `revision` of its stream. */
export type TransferDocument = Document & {
  transferId: string;
  fromAccountId: string;
  toAccountId: string;
  /** In minor units. */
  amount: number;
  /** The subject that asked for the transfer. */
  requestedBy: string;
  /** pending until the money has moved (completed) or the transfer has given up (failed). */
  status: 'pending' | 'completed' | 'failed';
  reason?: TransferFailureReason;
  /** Set when the source refused its refund: the amount is stranded and needs a person. */
  refundRefused?: string;
  revision: number;
  createdAt: string;
  updatedAt: string;
};

/**
 * A recorded transfer event in its current shape (a version newer than this code throws), checked
 * against the domain's schemas, in its own transfer's stream (documents are guarded by that
 * stream's revision). Anything else throws, and the event parks.
 */
const readTransferEvent = (recorded: RecordedEvent): { event: TransferEvent; at: string } => {
  const event = transferAggregate.parseEvent(recorded);
  const expected = streamIdFor(transferAggregate, event.data.transferId);
  if (recorded.streamId !== expected)
    throw new Error(
      `${event.type} for transfer ${event.data.transferId} is in stream ${recorded.streamId}, not ${expected}`,
    );
  return { event, at: occurredAt(recorded) };
};

/** The `transfers` read model: each transfer's status, for GET /transfers/:id. */
export const transfersProjection = (): Projection => ({
  name: TRANSFERS_PROJECTION,
  eventTypes: transferEventTypes,
  streamPrefixes: [TRANSFER_STREAM_PREFIX],
  collections: [{ name: TRANSFERS }],

  handle(recorded) {
    const { event, at } = readTransferEvent(recorded);
    const write = (fields: Partial<TransferDocument>) => ({
      [TRANSFERS]: [
        guardedUpsert(event.data.transferId, recorded.revision, { $set: { ...fields, updatedAt: at } }),
      ],
    });
    switch (event.type) {
      case 'TransferRequested': {
        const { transferId, fromAccountId, toAccountId, amount, requestedBy } = event.data;
        return write({
          transferId,
          fromAccountId,
          toAccountId,
          amount,
          requestedBy: requestedBy.subject,
          status: 'pending',
          createdAt: at,
        });
      }
      // Steps on the way: still pending, but the document moves on to their revision.
      case 'TransferDebited':
      case 'TransferLegChosen':
      case 'TransferCompensated':
        return write({});
      case 'TransferCompleted':
        return write({ status: 'completed' });
      case 'TransferFailed': {
        const { reason, refundRefused } = event.data;
        return write({ status: 'failed', reason, ...(refundRefused !== undefined && { refundRefused }) });
      }
    }
  },
});
