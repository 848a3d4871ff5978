import { streamIdFor } from '../../domain/shared/decider.js';
import { transferAggregate, transferOutcomeTypes } from '../../domain/transfers/transfer.js';
import type { EventStore, RecordedEvent } from '../../infra/event-store/event-store.js';
import type { Logger } from '../../infra/logger.js';
import { createOutcomeWaiter } from '../process-manager/outcomes.js';

export type TransferOutcomes = ReturnType<typeof createTransferOutcomes>;

/**
 * Lets a request wait for the outcome (TransferCompleted or TransferFailed) of the transfer it
 * started: the engine's outcome waiter over transfer streams.
 */
export const createTransferOutcomes = (deps: {
  eventStore: EventStore;
  logger: Logger;
  retryMs?: number;
}) => {
  const waiter = createOutcomeWaiter({
    ...deps,
    outcomeTypes: transferOutcomeTypes,
    streamPrefixes: [`${transferAggregate.category}-`],
  });
  return {
    /**
     * The event that settled the transfer, or undefined when `timeoutMs` passes or `signal` aborts
     * first, or the transfer does not exist.
     */
    wait: (
      transferId: string,
      options: { timeoutMs: number; signal?: AbortSignal },
    ): Promise<RecordedEvent | undefined> => waiter.wait(streamIdFor(transferAggregate, transferId), options),
    get waiting(): number {
      return waiter.waiting;
    },
    stop: () => waiter.stop(),
  };
};
