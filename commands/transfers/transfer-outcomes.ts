import { setTimeout as sleep } from 'node:timers/promises';
import { streamIdFor } from '../../domain/shared/decider.js';
import { transferAggregate, transferOutcomeTypes } from '../../domain/transfers/transfer.js';
import type { EventStore, Position, RecordedEvent } from '../../infra/event-store/event-store.js';
import type { Logger } from '../../infra/logger.js';

type Waiter = { streamId: string; settle: (outcome: RecordedEvent | undefined) => void };

export type TransferOutcomes = ReturnType<typeof createTransferOutcomes>;

const isOutcome = (event: RecordedEvent) => (transferOutcomeTypes as readonly string[]).includes(event.type);

/**
 * Lets a request wait for the outcome of the transfer it started (request/reply over the
 * asynchronous transfer process). One filtered subscription to the log per process, opened on the
 * first wait, hears every TransferCompleted and TransferFailed and hands it to the requests
 * waiting under its correlation id: the id of the HTTP request that asked for the transfer, which
 * the process carries into every event of it.
 *
 * A waiter registers before it looks at the transfer stream, and the subscription starts no later
 * than that look, so an outcome is either already in the stream or still to come through the
 * subscription: never lost in between.
 */
export const createTransferOutcomes = (deps: {
  eventStore: EventStore;
  logger: Logger;
  retryMs?: number;
}) => {
  const { eventStore, logger, retryMs = 1_000 } = deps;
  const waiters = new Map<string, Set<Waiter>>();
  const stopping = new AbortController();
  let subscribed: Promise<void> | undefined;

  const deliver = (event: RecordedEvent) => {
    for (const waiter of waiters.get(event.metadata.correlationId) ?? [])
      if (waiter.streamId === event.streamId) waiter.settle(event);
  };

  /** Resolves once the subscription is open; it then runs until stop(), resubscribing after failures. */
  const subscribe = () => {
    subscribed ??= new Promise<void>((opened) => {
      void (async () => {
        let after: Position | undefined;
        for (let open = false; !stopping.signal.aborted; ) {
          try {
            if (!open) after = await eventStore.headPosition();
            open = true;
            opened();
            for await (const event of eventStore.subscribeToAll({
              after,
              filter: {
                eventTypes: transferOutcomeTypes,
                streamPrefixes: [`${transferAggregate.category}-`],
              },
              signal: stopping.signal,
            })) {
              after = event.position;
              deliver(event);
            }
          } catch (error) {
            // Waiters keep their own timeouts; resuming from `after` loses no outcome meanwhile.
            logger.warn({ err: error }, 'transfer outcome subscription failed; resubscribing');
            await sleep(retryMs, undefined, { signal: stopping.signal }).catch(() => {});
          }
        }
        opened();
      })();
    });
    return subscribed;
  };

  return {
    /**
     * The event that settled the transfer (TransferCompleted or TransferFailed), or undefined when
     * `timeoutMs` passes or `signal` aborts first, or the transfer does not exist.
     */
    async wait(
      transferId: string,
      { timeoutMs, signal }: { timeoutMs: number; signal?: AbortSignal },
    ): Promise<RecordedEvent | undefined> {
      const streamId = streamIdFor(transferAggregate, transferId);
      const history = await eventStore.readStream(streamId);
      const [requested] = history;
      if (!requested) return undefined;
      const settledAlready = history.find(isOutcome);
      if (settledAlready || timeoutMs <= 0 || signal?.aborted) return settledAlready;

      const correlationId = requested.metadata.correlationId;
      let settle: (outcome: RecordedEvent | undefined) => void = () => {};
      const outcome = new Promise<RecordedEvent | undefined>((resolve) => {
        settle = resolve;
      });
      const waiter: Waiter = { streamId, settle: (event) => settle(event) };
      const timer = setTimeout(() => settle(undefined), timeoutMs);
      const abandon = () => settle(undefined);
      signal?.addEventListener('abort', abandon, { once: true });
      const group = waiters.get(correlationId) ?? new Set<Waiter>();
      waiters.set(correlationId, group);
      group.add(waiter);
      try {
        // The subscription may be slow to open (the store is away): the timeout still holds.
        const open = await Promise.race([subscribe().then(() => true), outcome.then(() => false)]);
        if (open) {
          // Whatever was appended before the subscription opened is in the stream by now.
          const since = await eventStore.readStream(streamId, { fromRevision: history.length });
          const settled = since.find(isOutcome);
          if (settled) settle(settled);
        }
        return await outcome;
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abandon);
        group.delete(waiter);
        if (group.size === 0) waiters.delete(correlationId);
      }
    },

    /** Requests waiting right now. */
    get waiting(): number {
      let count = 0;
      for (const group of waiters.values()) count += group.size;
      return count;
    },

    stop(): void {
      stopping.abort();
      for (const group of waiters.values()) for (const waiter of group) waiter.settle(undefined);
    },
  };
};
