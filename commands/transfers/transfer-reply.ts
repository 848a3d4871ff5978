import { stateFrom } from '../../domain/shared/decider.js';
import { transferAggregate } from '../../domain/transfers/transfer.js';
import type { TransferView } from '../../domain/transfers/transfer-view.js';
import type { RecordedEvent } from '../../infra/event-store/event-store.js';

/**
 * A transfer as the API shows it, folded from its own stream: what a request that waited for the
 * outcome answers with, without waiting for the read model as well. Undefined for an empty stream.
 */
export const transferViewOf = (events: readonly RecordedEvent[]): TransferView | undefined => {
  const first = events[0];
  const last = events.at(-1);
  if (!first || !last) return undefined;
  const state = stateFrom(transferAggregate, events);
  if (state.status === 'none') return undefined;
  const { transferId, fromAccountId, toAccountId, amount, reason } = state;
  const status = state.status === 'completed' || state.status === 'failed' ? state.status : 'pending';
  return {
    transferId,
    fromAccountId,
    toAccountId,
    amount,
    requestedBy: state.requestedBy.subject,
    status,
    ...(reason !== undefined && { reason }),
    createdAt: first.metadata.occurredAt,
    updatedAt: last.metadata.occurredAt,
  };
};
