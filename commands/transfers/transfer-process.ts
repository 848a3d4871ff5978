import { setTimeout as sleep } from 'node:timers/promises';
import { streamIdFor } from '../../domain/shared/decider.js';
import { transferAggregate, transferEventTypes } from '../../domain/transfers/transfer.js';
import {
  type EventStore,
  isEventStoreUnavailable,
  type Position,
} from '../../infra/event-store/event-store.js';
import type { Logger } from '../../infra/logger.js';
import type { CommandHandler } from '../pipeline/handle-command.js';
import { CheckpointTakenError, checkpointStream } from '../process-manager/checkpoint-stream.js';
import { type CommitTracker, createCommitTracker } from '../process-manager/commit-tracker.js';
import { createTransferSteps } from './transfer-steps.js';

export type TransferProcessConfig = {
  /** Transfers worked on at once; the subscription waits while this many are in hand. */
  concurrency: number;
  /** Delivered events the checkpoint has not passed yet; past this, the subscription waits too. */
  maxPending: number;
  /** First pause before a failed step is tried again; it doubles per failure, up to retryMaxMs. */
  retryBackoffMs: number;
  retryMaxMs: number;
  /**
   * How often the checkpoint is saved once it has passed a transfer event this process handled (and
   * once more when a session ends).
   */
  checkpointIntervalMs: number;
  /**
   * Longest a checkpoint that moved only past events this process does not handle (scanned, filtered
   * out) waits before it is saved: it bounds the rescan after a restart on a busy log with no transfers.
   */
  scanCheckpointIntervalMs: number;
  /** Longest the end of a session (stop(), a lost lease) waits for the steps in hand to finish. */
  stopTimeoutMs: number;
};

export const defaultTransferProcessConfig: TransferProcessConfig = {
  concurrency: 16,
  maxPending: 10_000,
  retryBackoffMs: 50,
  retryMaxMs: 5_000,
  checkpointIntervalMs: 1_000,
  scanCheckpointIntervalMs: 5 * 60_000,
  stopTimeoutMs: 5_000,
};

/** The right to drive transfers, held by one process at a time (see transfer-process-lease.ts). */
export type TransferProcessLease = (signal: AbortSignal) => Promise<
  | {
      /** Aborts when the lease is lost: this process must stop driving transfers. */
      lost: AbortSignal;
      release(): Promise<void>;
    }
  | undefined
>;

export type TransferProcessDeps = {
  eventStore: EventStore;
  handle: CommandHandler;
  logger: Logger;
  config?: Partial<TransferProcessConfig>;
  /** Names the checkpoint; two processes with one name must not run at once. */
  name?: string;
  /**
   * Waits for the lease before driving transfers, and stops when it is lost; resolves undefined
   * when the signal aborts first. Without it, the deployment must run a single instance.
   */
  lease?: TransferProcessLease;
  now?: () => number;
};

export type TransferProcess = {
  /** Resolves once this instance follows the log (its checkpoint loaded), or once it stops. */
  readonly started: Promise<void>;
  /** Stops taking events, lets the steps in hand finish (at most stopTimeoutMs), saves the checkpoint. */
  stop(): Promise<void>;
  /** The position before which every transfer event has been handled. */
  checkpoint(): Position | undefined;
};

/** Per transfer: the events that woke it and are not done, and whether a step runs or waits to retry. */
type Work = {
  positions: Position[];
  running: boolean;
  again: boolean;
  failures: number;
  retry?: NodeJS.Timeout;
  /** Milliseconds since the epoch; a retry is never put off past it. */
  deadline?: number;
  /** The transfer's, for the log lines about it. */
  correlationId?: string;
};

const TRANSFER_PREFIX = `${transferAggregate.category}-`;

/**
 * The transfer process manager: it follows transfer events like a projector (its own durable
 * checkpoint, catch-up then live) and drives each transfer with commands like the command API
 * (transfer-steps.ts).
 *
 * Transfers run concurrently, each one step at a time: an event for a transfer already in hand
 * only asks for another pass once the current one ends. A step that fails is retried with
 * backoff, but never later than the transfer's deadline, so a transfer whose legs keep failing is
 * still failed (and refunded) on time. The checkpoint passes an event only once its transfer has
 * been driven past it; after a crash, the events after the checkpoint come again and find their
 * steps done, because every leg carries an idempotency key.
 *
 * With a lease, only its holder drives transfers; the others wait to take over. A session (one
 * holding of the lease) ends when the lease is lost or stop() is called: the steps in hand finish,
 * the checkpoint is saved, the lease is released.
 */
export const startTransferProcess = (deps: TransferProcessDeps): TransferProcess => {
  const config = { ...defaultTransferProcessConfig, ...deps.config };
  const { eventStore } = deps;
  const now = deps.now ?? Date.now;
  const name = deps.name ?? 'transfer-process';
  const log = deps.logger.child({ component: name });
  const steps = createTransferSteps({ eventStore, handle: deps.handle, logger: log, now });
  const checkpoints = checkpointStream(eventStore, name);
  const stopping = new AbortController();
  let tracker: CommitTracker = createCommitTracker(undefined);

  const backoff = (failures: number) =>
    Math.min(config.retryMaxMs, config.retryBackoffMs * 2 ** Math.min(Math.max(failures - 1, 0), 20));
  const pause = (failures: number, signal: AbortSignal) =>
    sleep(backoff(failures), undefined, { signal }).catch(() => {});

  /** Follows the log from the checkpoint and drives transfers until `signal` aborts. */
  const session = async (signal: AbortSignal, onFollowing: () => void) => {
    const start = await checkpoints.load();
    let saved = start;
    let savedAt = now();
    const sessionTracker = createCommitTracker(start);
    tracker = sessionTracker;
    const work = new Map<string, Work>();
    let running = 0;
    let wakeSubscription: (() => void) | undefined;
    let whenIdle: (() => void) | undefined;
    // Ends this session: on stop, on a lost lease, or when another process took the checkpoint. The
    // steps check it (not just the outer signal), so none outlives the session it belongs to.
    const ended = new AbortController();
    const end = () => {
      ended.abort();
      wakeSubscription?.();
    };
    log.info({ checkpoint: start?.toString() }, 'transfer process following the log');
    onFollowing();

    const hasRoom = () => running < config.concurrency && sessionTracker.pending < config.maxPending;
    const roomChanged = () => {
      if (hasRoom()) wakeSubscription?.();
      if (running === 0) whenIdle?.();
    };

    const retryDelay = (w: Work) => {
      const jittered = backoff(w.failures) * (0.5 + Math.random() / 2);
      // Wake up for the deadline when it comes first; once it has passed, back off as usual.
      const untilDeadline = w.deadline === undefined ? 0 : w.deadline - now();
      return untilDeadline > 0 ? Math.min(jittered, untilDeadline) : jittered;
    };

    const schedule = (transferId: string, position?: Position) => {
      let w = work.get(transferId);
      if (!w) {
        w = { positions: [], running: false, again: false, failures: 0 };
        work.set(transferId, w);
      }
      if (position !== undefined) w.positions.push(position);
      if (w.running) {
        w.again = true;
        return;
      }
      clearTimeout(w.retry);
      w.retry = undefined;
      void run(transferId, w);
    };

    const run = async (transferId: string, w: Work) => {
      w.running = true;
      running++;
      try {
        do {
          w.again = false;
          const covered = w.positions.splice(0);
          try {
            await steps.advance(transferId, (state, correlationId) => {
              w.correlationId = correlationId;
              if (state.status !== 'none') w.deadline = Date.parse(state.deadline);
            });
            w.failures = 0;
            for (const position of covered) sessionTracker.done(position);
          } catch (error) {
            w.positions.unshift(...covered);
            w.failures++;
            if (ended.signal.aborted) break;
            const delay = retryDelay(w);
            log.warn(
              {
                err: error,
                correlationId: w.correlationId,
                transferId,
                failures: w.failures,
                retryInMs: Math.round(delay),
              },
              'transfer step failed',
            );
            w.retry = setTimeout(() => schedule(transferId), delay);
            break;
          }
        } while (w.again && !ended.signal.aborted);
      } finally {
        w.running = false;
        running--;
        if (w.positions.length === 0 && w.retry === undefined) work.delete(transferId);
        roomChanged();
      }
    };

    /**
     * Whether the checkpoint is worth an append now. Each save is an event in `$all` that moves the
     * subscription's position again, so "save whenever the position moved" saves forever, even on
     * an idle log (once per interval here, once per 32 events looked at on EventStoreDB). So:
     * - after handling a transfer event: save at the next tick; a restart must not redo that work.
     * - past positions only scanned: replaying them after a restart costs a rescan and no work (the
     *   filter drops them), so save them only every scanCheckpointIntervalMs (bounding that rescan
     *   on a busy log with no transfers) or when the session ends (a rare, bounded write), and never
     *   when nothing lies past our own last checkpoint event but that event itself.
     */
    const saveDue = (ending: boolean) => {
      const position = sessionTracker.position;
      if (position === undefined || (saved !== undefined && position <= saved)) return false;
      const handled = sessionTracker.handled;
      if (handled !== undefined && (saved === undefined || handled > saved)) return true;
      const own = checkpoints.written();
      if (own !== undefined && position <= own) return false;
      return ending || now() - savedAt >= config.scanCheckpointIntervalMs;
    };

    const saveCheckpoint = async (ending = false) => {
      const position = sessionTracker.position;
      if (position === undefined || !saveDue(ending)) return;
      await checkpoints.save(position);
      saved = position;
      savedAt = now();
    };

    signal.addEventListener('abort', end, { once: true });
    // It may have been aborted while the checkpoint loaded.
    if (signal.aborted) end();
    const saver = setInterval(() => {
      saveCheckpoint().catch((error) => {
        if (!(error instanceof CheckpointTakenError))
          return log.warn({ err: error }, 'checkpoint save failed; will try again');
        log.error({ err: error }, 'another transfer process took over the checkpoint; ending this session');
        end();
      });
    }, config.checkpointIntervalMs);
    saver.unref();

    // Catch-up then live from the checkpoint; after a failure, again from the last event taken.
    let after = start;
    try {
      for (let failures = 0; !ended.signal.aborted; ) {
        try {
          for await (const event of eventStore.subscribeToAll({
            after,
            filter: { streamPrefixes: [TRANSFER_PREFIX], eventTypes: transferEventTypes },
            signal: ended.signal,
            onCheckpoint: (position) => sessionTracker.scanned(position),
          })) {
            failures = 0;
            while (!hasRoom() && !ended.signal.aborted)
              await new Promise<void>((resolve) => {
                wakeSubscription = resolve;
              });
            wakeSubscription = undefined;
            if (ended.signal.aborted) break;
            after = event.position;
            sessionTracker.delivered(event.position);
            schedule(event.streamId.slice(TRANSFER_PREFIX.length), event.position);
          }
        } catch (error) {
          failures++;
          log.warn({ err: error, failures }, 'transfer subscription failed; resubscribing');
          await pause(failures, ended.signal);
        }
      }
    } finally {
      signal.removeEventListener('abort', end);
      clearInterval(saver);
      for (const w of work.values()) clearTimeout(w.retry);
      if (running > 0) {
        const drained = new Promise<void>((resolve) => {
          whenIdle = resolve;
        });
        await Promise.race([drained, sleep(config.stopTimeoutMs, undefined, { ref: false })]);
      }
      if (running > 0) log.warn({ running }, 'session ended with transfer steps still in hand');
      await saveCheckpoint(true).catch((error) => log.warn({ err: error }, 'final checkpoint save failed'));
      log.info({ checkpoint: sessionTracker.position?.toString() }, 'transfer process session ended');
    }
  };

  let resolveStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    resolveStarted = resolve;
  });

  const loop = (async () => {
    for (let failures = 0; !stopping.signal.aborted; ) {
      const lease = deps.lease ? await deps.lease(stopping.signal) : undefined;
      if (deps.lease && !lease) break;
      const signal = lease ? AbortSignal.any([stopping.signal, lease.lost]) : stopping.signal;
      try {
        await session(signal, resolveStarted);
        failures = 0;
        // Ended with the lease still held: another process took the checkpoint. Give it room
        // rather than contending at once.
        if (!signal.aborted) await pause(1, signal);
      } catch (error) {
        failures++;
        // An unreachable store is expected now and then (a restart, a reconnect): not an error yet.
        log[isEventStoreUnavailable(error) ? 'warn' : 'error'](
          { err: error, failures },
          'transfer process could not load its checkpoint; trying again',
        );
        await pause(failures, signal);
      } finally {
        await lease?.release();
      }
    }
    resolveStarted();
  })();

  let stopped: Promise<void> | undefined;
  return {
    started,
    checkpoint: () => tracker.position,
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        await loop;
      })();
      return stopped;
    },
  };
};

/** The stream a transfer lives in, for callers that look it up by id. */
export const transferStreamId = (transferId: string) => streamIdFor(transferAggregate, transferId);
