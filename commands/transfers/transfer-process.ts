import { setTimeout as sleep } from 'node:timers/promises';
import { streamIdFor } from '../../domain/shared/decider.js';
import { transferAggregate, transferEventTypes } from '../../domain/transfers/transfer.js';
import type { EventStore, Position } from '../../infra/event-store/event-store.js';
import type { Logger } from '../../infra/logger.js';
import type { CommandHandler } from '../pipeline/handle-command.js';
import { CheckpointTakenError, checkpointStream } from './checkpoint-stream.js';
import { createCommitTracker } from './commit-tracker.js';
import { createTransferSteps } from './transfer-steps.js';

export type TransferProcessConfig = {
  /** Transfers worked on at once; the subscription waits while this many are in hand. */
  concurrency: number;
  /** Delivered events the checkpoint has not passed yet; past this, the subscription waits too. */
  maxPending: number;
  /** First pause before a failed step is tried again; it doubles per failure, up to retryMaxMs. */
  retryBackoffMs: number;
  retryMaxMs: number;
  /** How often the checkpoint is saved while it moves (and once more on stop). */
  checkpointIntervalMs: number;
  /** Longest stop() waits for the steps in hand to finish before it gives up on them. */
  stopTimeoutMs: number;
};

export const defaultTransferProcessConfig: TransferProcessConfig = {
  concurrency: 16,
  maxPending: 10_000,
  retryBackoffMs: 50,
  retryMaxMs: 5_000,
  checkpointIntervalMs: 1_000,
  stopTimeoutMs: 5_000,
};

export type TransferProcessDeps = {
  eventStore: EventStore;
  handle: CommandHandler;
  logger: Logger;
  config?: Partial<TransferProcessConfig>;
  /** Names the checkpoint; two processes with one name must not run at once. */
  name?: string;
  now?: () => number;
};

export type TransferProcess = {
  /** Resolves once the subscription is open (after the checkpoint loaded). */
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
 */
export const startTransferProcess = (deps: TransferProcessDeps): TransferProcess => {
  const config = { ...defaultTransferProcessConfig, ...deps.config };
  const { eventStore, logger } = deps;
  const now = deps.now ?? Date.now;
  const name = deps.name ?? 'transfer-process';
  const log = logger.child({ component: name });
  const steps = createTransferSteps({ eventStore, handle: deps.handle, logger: log, now });
  const checkpoints = checkpointStream(eventStore, name);
  const stopping = new AbortController();
  const work = new Map<string, Work>();
  let tracker = createCommitTracker(undefined);
  let running = 0;
  let saved: Position | undefined;
  let wakeSubscription: (() => void) | undefined;
  let whenIdle: (() => void) | undefined;

  const hasRoom = () => running < config.concurrency && tracker.pending < config.maxPending;
  const roomChanged = () => {
    if (hasRoom()) wakeSubscription?.();
    if (running === 0) whenIdle?.();
  };

  const retryDelay = (w: Work) => {
    const backoff = Math.min(config.retryMaxMs, config.retryBackoffMs * 2 ** Math.min(w.failures - 1, 20));
    const jittered = backoff * (0.5 + Math.random() / 2);
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
          await steps.advance(transferId, (state) => {
            if (state.status !== 'none') w.deadline = Date.parse(state.deadline);
          });
          w.failures = 0;
          for (const position of covered) tracker.done(position);
        } catch (error) {
          w.positions.unshift(...covered);
          w.failures++;
          if (stopping.signal.aborted) break;
          const delay = retryDelay(w);
          log.warn(
            { err: error, transferId, failures: w.failures, retryInMs: Math.round(delay) },
            'transfer step failed',
          );
          w.retry = setTimeout(() => schedule(transferId), delay);
          break;
        }
      } while (w.again && !stopping.signal.aborted);
    } finally {
      w.running = false;
      running--;
      if (w.positions.length === 0 && w.retry === undefined) work.delete(transferId);
      roomChanged();
    }
  };

  const saveCheckpoint = async () => {
    const position = tracker.position;
    if (position === undefined || position === saved) return;
    await checkpoints.save(position);
    saved = position;
  };

  const pause = (failures: number) =>
    sleep(Math.min(config.retryMaxMs, config.retryBackoffMs * 2 ** Math.min(failures, 20)), undefined, {
      signal: stopping.signal,
    }).catch(() => {});

  const waitForRoom = async () => {
    while (!hasRoom() && !stopping.signal.aborted)
      await new Promise<void>((resolve) => {
        wakeSubscription = resolve;
      });
    wakeSubscription = undefined;
  };

  /** Catch-up then live from the checkpoint; on a failure, again from the last event taken. */
  const follow = async (start: Position | undefined) => {
    let after = start;
    for (let failures = 0; !stopping.signal.aborted; ) {
      try {
        for await (const event of eventStore.subscribeToAll({
          after,
          filter: { streamPrefixes: [TRANSFER_PREFIX], eventTypes: transferEventTypes },
          signal: stopping.signal,
          onCheckpoint: (position) => tracker.scanned(position),
        })) {
          failures = 0;
          await waitForRoom();
          if (stopping.signal.aborted) return;
          after = event.position;
          tracker.delivered(event.position);
          schedule(event.streamId.slice(TRANSFER_PREFIX.length), event.position);
        }
      } catch (error) {
        failures++;
        log.warn({ err: error, failures }, 'transfer subscription failed; resubscribing');
        await pause(failures);
      }
    }
  };

  let resolveStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    resolveStarted = resolve;
  });

  const loop = (async () => {
    for (let failures = 0; !stopping.signal.aborted; ) {
      try {
        const start = await checkpoints.load();
        saved = start;
        tracker = createCommitTracker(start);
        log.info({ checkpoint: start?.toString() }, 'transfer process started');
        resolveStarted();
        await follow(start);
      } catch (error) {
        failures++;
        log.error({ err: error, failures }, 'transfer process could not load its checkpoint; trying again');
        await pause(failures);
      }
    }
    resolveStarted();
  })();

  const saver = setInterval(() => {
    saveCheckpoint().catch((error) => {
      if (!(error instanceof CheckpointTakenError))
        return log.warn({ err: error }, 'checkpoint save failed; will try again');
      log.error({ err: error }, 'another transfer process took over the checkpoint; stopping this one');
      void self.stop();
    });
  }, config.checkpointIntervalMs);
  saver.unref();

  let stopped: Promise<void> | undefined;
  const self: TransferProcess = {
    started,
    checkpoint: () => tracker.position,
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        wakeSubscription?.();
        clearInterval(saver);
        for (const w of work.values()) clearTimeout(w.retry);
        await loop;
        if (running > 0) {
          const drained = new Promise<void>((resolve) => {
            whenIdle = resolve;
          });
          await Promise.race([drained, sleep(config.stopTimeoutMs, undefined, { ref: false })]);
        }
        if (running > 0) log.warn({ running }, 'stopped with transfer steps still in hand');
        await saveCheckpoint().catch((error) => log.warn({ err: error }, 'final checkpoint save failed'));
        log.info({ checkpoint: tracker.position?.toString() }, 'transfer process stopped');
      })();
      return stopped;
    },
  };
  return self;
};

/** The stream a transfer lives in, for callers that look it up by id. */
export const transferStreamId = (transferId: string) => streamIdFor(transferAggregate, transferId);
