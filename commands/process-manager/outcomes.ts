import type { EventStore, Position, RecordedEvent } from '../../infra/event-store/event-store.js';
import type { Logger } from '../../infra/logger.js';
import { sleep } from '../../infra/retry/backoff.js';

type Waiter = { streamId: string; settle: (outcome: RecordedEvent | undefined) => void };

export type OutcomeWaiter = ReturnType<typeof createOutcomeWaiter>;

/**
 * Lets a request wait for the outcome of the process it started (request/reply over an
 * asynchronous process manager, as `Prefer: wait` asks): the first event of `outcomeTypes` in the
 * process's stream. One filtered subscription to the log per waiter, opened on the first wait,
 * hears every outcome event in streams starting with one of `streamPrefixes` and hands it to the
 * requests waiting under its correlation id: the id of the request that started the process, which
 * the process manager carries into every event it causes.
 *
 * A waiter registers before it looks at the stream, and the subscription starts no later than that
 * look, so an outcome is either already in the stream or still to come through the subscription:
 * never lost in between.
 */
export const createOutcomeWaiter = (deps: {
  eventStore: EventStore;
  logger: Logger;
  /** The events that end a process: the first one in its stream is its outcome. */
  outcomeTypes: readonly string[];
  /** The processes' streams (e.g. `job-`). */
  streamPrefixes: readonly string[];
  /** Pause before resubscribing after the subscription failed. */
  retryMs?: number;
}) => {
  const { eventStore, logger, outcomeTypes, streamPrefixes, retryMs = 1_000 } = deps;
  const waiters = new Map<string, Set<Waiter>>();
  const stopping = new AbortController();
  let subscribed: Promise<void> | undefined;
  const isOutcome = (event: RecordedEvent) => outcomeTypes.includes(event.type);

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
              filter: { eventTypes: outcomeTypes, streamPrefixes },
              signal: stopping.signal,
            })) {
              after = event.position;
              deliver(event);
            }
          } catch (error) {
            // Waiters keep their own timeouts; resuming from `after` loses no outcome meanwhile.
            logger.warn({ err: error }, 'outcome subscription failed; resubscribing');
            await sleep(retryMs, stopping.signal);
          }
        }
        opened();
      })();
    });
    return subscribed;
  };

  return {
    /**
     * The event that ended the process in `streamId`, or undefined when `timeoutMs` passes or
     * `signal` aborts first, or the stream does not exist.
     */
    async wait(
      streamId: string,
      { timeoutMs, signal }: { timeoutMs: number; signal?: AbortSignal },
    ): Promise<RecordedEvent | undefined> {
      const history = await eventStore.readStream(streamId);
      const [started] = history;
      if (!started) return undefined;
      const endedAlready = history.find(isOutcome);
      if (endedAlready || timeoutMs <= 0 || signal?.aborted) return endedAlready;

      const correlationId = started.metadata.correlationId;
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
          const ended = since.find(isOutcome);
          if (ended) settle(ended);
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
