import { type AccountEvent, accountAggregate } from '../../domain/accounts/account.js';
import { streamIdFor } from '../../domain/shared/decider.js';
import type { RecordedEvent } from '../../infra/event-store/event-store.js';
import { occurredAt } from '../engine/event-time.js';

/**
 * A recorded account event in its current shape (upcast from the version it was stored at), checked
 * against the domain's schemas. The stream must be the account's own: documents are guarded by the
 * stream's revision, so an event filed under another stream would corrupt them. Anything that does
 * not check out throws (a version newer than this code too), and the event is parked.
 */
export const readAccountEvent = (recorded: RecordedEvent): { event: AccountEvent; at: string } => {
  const event = accountAggregate.parseEvent(recorded);
  const expected = streamIdFor(accountAggregate, event.data.accountId);
  if (recorded.streamId !== expected)
    throw new Error(
      `${event.type} for account ${event.data.accountId} is in stream ${recorded.streamId}, not ${expected}`,
    );
  return { event, at: occurredAt(recorded) };
};

export const ACCOUNT_STREAM_PREFIX = `${accountAggregate.category}-`;
