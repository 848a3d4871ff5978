import {
  type EventStore,
  isEventStoreUnavailable,
  type Position,
  type RecordedEvent,
} from '../../infra/event-store/event-store.js';
import type { Logger } from '../../infra/logger.js';
import { backoffDelayMs, sleep } from '../../infra/retry/backoff.js';
import { createCheckpointSaver } from './checkpoint-saver.js';
import { CheckpointTakenError, checkpointStream } from './checkpoint-stream.js';
import { type CommitTracker, createCommitTracker } from './commit-tracker.js';
import { retryDelayBefore } from './deadline.js';
import { followLog } from './follow-log.js';
import type { ProcessManagerLease } from './lease.js';
import { type AdvanceContext, createPerKeyQueue } from './per-key-queue.js';

export type { AdvanceContext } from './per-key-queue.js';

/**
 * A process manager, as the engine runs it: which events wake it, the key each is handled under,
 * and what one pass over a key does. The pass is I/O glue: it reads what has happened, asks a pure
 * decision (see run-workflow.ts) what to do next, and does it, with step keys (step-keys.ts) on
 * every effect so that a repeated pass repeats nothing.
 *
 * Writing one (testing/job-process.ts is the smallest; commands/transfers/transfer-process.ts the
 * example):
 * 1. In domain/: a Workflow (domain/shared/workflow.ts): observations (its own events, what it
 *    finds elsewhere by step key, what its last action did) fold into a state; `decide(state, now)`
 *    names the next command or nothing. Test it with workflowSpec: given/when(time)/then.
 * 2. Here: a ProcessDefinition whose `advance` calls runWorkflow with `observe` (read its stream and
 *    the streams it acts on; findStep for each step key) and `act` (runStep for an effect on another
 *    aggregate, the command handler for its own stream); `onState` reports the key's deadline.
 * 3. startProcessManager(definition, { eventStore, logger, lease: readStoreLease(...) }).
 * 4. For request/reply: createOutcomeWaiter over its streams, and preferredWait for the header.
 */
export type ProcessDefinition = {
  /** Names the checkpoint (`checkpoint-<name>-…`), the log lines and, by convention, the lease. */
  name: string;
  /** The events that wake it. */
  filter: { streamPrefixes: readonly string[]; eventTypes: readonly string[] };
  /** The key an event is handled under: one pass at a time per key, keys concurrently. */
  keyOf(event: RecordedEvent): string;
  /**
   * Brings a key as far as it goes now, reading where it stands rather than trusting the event
   * that woke it. Throws to be tried again later, with backoff but never past its deadline.
   */
  advance(key: string, context: AdvanceContext): Promise<void>;
};

export type ProcessManagerConfig = {
  /** Keys worked on at once; the subscription waits while this many are in hand. */
  concurrency: number;
  /** Delivered events the checkpoint has not passed yet; past this, the subscription waits too. */
  maxPending: number;
  /** First pause before a failed pass is tried again; it doubles per failure, up to retryMaxMs. */
  retryBackoffMs: number;
  retryMaxMs: number;
  /** How often the checkpoint is saved once it has passed an event this process handled (and once more when a session ends). */
  checkpointIntervalMs: number;
  /**
   * Longest a checkpoint that moved only past events this process does not handle (scanned, filtered
   * out) waits before it is saved: it bounds the rescan after a restart on a busy log with nothing for it.
   */
  scanCheckpointIntervalMs: number;
  /** Longest the end of a session (stop(), a lost lease) waits for the passes in hand to finish. */
  stopTimeoutMs: number;
};

export const defaultProcessManagerConfig: ProcessManagerConfig = {
  concurrency: 16,
  maxPending: 10_000,
  retryBackoffMs: 50,
  retryMaxMs: 5_000,
  checkpointIntervalMs: 1_000,
  scanCheckpointIntervalMs: 5 * 60_000,
  stopTimeoutMs: 5_000,
};

export type ProcessManagerDeps = {
  eventStore: EventStore;
  logger: Logger;
  config?: Partial<ProcessManagerConfig>;
  /**
   * Waits for the lease before following the log, and ends the session when it is lost; resolves
   * undefined when the signal aborts first. Without it, the deployment must run a single instance.
   */
  lease?: ProcessManagerLease;
  /** Milliseconds since the epoch; injected so tests can move past deadlines. */
  now?: () => number;
};

export type ProcessManager = {
  /** Resolves once this instance follows the log (its checkpoint loaded), or once it stops. */
  readonly started: Promise<void>;
  /** Stops taking events, lets the passes in hand finish (at most stopTimeoutMs), saves the checkpoint. */
  stop(): Promise<void>;
  /** The position before which every event of this process has been handled. */
  checkpoint(): Position | undefined;
};

/**
 * Runs a process manager: follows its events like a projector (its own durable checkpoint in the
 * event store, catch-up then live; follow-log.ts, checkpoint-stream.ts) and hands each to its key's
 * queue (per-key-queue.ts). The checkpoint passes an event only once its key has been advanced past
 * it (commit-tracker.ts); after a crash, the events after the checkpoint come again and find their
 * steps done, because every effect carries a step key.
 *
 * With a lease, only its holder runs the process; the others wait to take over. A session (one
 * holding of the lease) ends when the lease is lost, when stop() is called, or when another
 * instance wrote the checkpoint: the passes in hand finish, the checkpoint is saved, the lease is
 * released.
 */
export const startProcessManager = (
  definition: ProcessDefinition,
  deps: ProcessManagerDeps,
): ProcessManager => {
  const config = { ...defaultProcessManagerConfig, ...deps.config };
  const { eventStore } = deps;
  const now = deps.now ?? Date.now;
  const { name } = definition;
  const log = deps.logger.child({ component: name });
  const checkpoints = checkpointStream(eventStore, name);
  const stopping = new AbortController();
  let tracker: CommitTracker = createCommitTracker(undefined);

  const backoff = { baseMs: config.retryBackoffMs, maxMs: config.retryMaxMs };
  const pause = (failures: number, signal: AbortSignal) =>
    sleep(backoffDelayMs(failures, { ...backoff, jitter: 'none' }), signal);

  /** Follows the log from the checkpoint and runs the process until `signal` aborts. */
  const session = async (signal: AbortSignal, onFollowing: () => void) => {
    const start = await checkpoints.load();
    const sessionTracker = createCommitTracker(start);
    tracker = sessionTracker;
    const saver = createCheckpointSaver({
      stream: checkpoints,
      tracker: sessionTracker,
      start,
      now,
      scanIntervalMs: config.scanCheckpointIntervalMs,
    });
    let wakeSubscription: (() => void) | undefined;
    let whenIdle: (() => void) | undefined;
    // Ends this session: on stop, on a lost lease, or when another instance took the checkpoint.
    // The queue checks it (not just the outer signal), so no pass outlives its session.
    const ended = new AbortController();
    const end = () => {
      ended.abort();
      wakeSubscription?.();
    };
    log.info({ checkpoint: start?.toString() }, 'process manager following the log');
    onFollowing();

    const queue = createPerKeyQueue({
      advance: definition.advance,
      done: (position) => sessionTracker.done(position),
      retryDelay: (failures, deadline, passStartedAt) =>
        retryDelayBefore(
          backoffDelayMs(failures, { ...backoff, jitter: 'equal' }),
          deadline,
          now(),
          passStartedAt,
        ),
      now,
      ended: ended.signal,
      logger: log,
      onPassEnded: () => {
        if (hasRoom()) wakeSubscription?.();
        if (queue.running === 0) whenIdle?.();
      },
    });
    const hasRoom = () => queue.running < config.concurrency && sessionTracker.pending < config.maxPending;
    const room = () =>
      new Promise<void>((resolve) => {
        wakeSubscription = () => {
          wakeSubscription = undefined;
          resolve();
        };
      });

    signal.addEventListener('abort', end, { once: true });
    // It may have been aborted while the checkpoint loaded.
    if (signal.aborted) end();
    const saving = setInterval(() => {
      saver.save().catch((error) => {
        if (!(error instanceof CheckpointTakenError))
          return log.warn({ err: error }, 'checkpoint save failed; will try again');
        log.error({ err: error }, 'another instance took over the checkpoint; ending this session');
        end();
      });
    }, config.checkpointIntervalMs);
    saving.unref();

    try {
      await followLog({
        eventStore,
        from: start,
        filter: definition.filter,
        signal: ended.signal,
        hasRoom,
        room,
        take: (event) => {
          sessionTracker.delivered(event.position);
          queue.schedule(definition.keyOf(event), event.position);
        },
        scanned: (position) => sessionTracker.scanned(position),
        onFailure: async (error, failures) => {
          log.warn({ err: error, failures }, 'process manager subscription failed; resubscribing');
          await pause(failures, ended.signal);
        },
      });
    } finally {
      signal.removeEventListener('abort', end);
      clearInterval(saving);
      queue.cancelRetries();
      if (queue.running > 0) {
        const drained = new Promise<void>((resolve) => {
          whenIdle = resolve;
        });
        await Promise.race([drained, sleep(config.stopTimeoutMs, undefined, { ref: false })]);
      }
      if (queue.running > 0) log.warn({ running: queue.running }, 'session ended with passes still in hand');
      await saver.save(true).catch((error) => log.warn({ err: error }, 'final checkpoint save failed'));
      log.info({ checkpoint: sessionTracker.position?.toString() }, 'process manager session ended');
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
        // Ended with the lease still held: another instance took the checkpoint. Give it room
        // rather than contending at once.
        if (!signal.aborted) await pause(1, signal);
      } catch (error) {
        failures++;
        // An unreachable store is expected now and then (a restart, a reconnect): not an error yet.
        log[isEventStoreUnavailable(error) ? 'warn' : 'error'](
          { err: error, failures },
          'process manager could not load its checkpoint; trying again',
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
