import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  type CorruptEventError,
  type EventStore,
  isCorruptEvent,
  type Position,
  type RecordedEvent,
} from '../../infra/event-store/event-store.js';
import type { ReadStore } from '../../infra/read-store/read-store.js';
import { backoffDelayMs, sleep } from '../../infra/retry/backoff.js';
import { projectorBackoff } from './backoff.js';
import { type BatchEntry, createBatchWriter } from './batch-writer.js';
import { type BlockedStreams, blockedStreams } from './blocked-streams.js';
import type { Logger } from './logger.js';
import { type ParkedEventDocument, parkedEventDocument } from './parked-events.js';
import type { Projection } from './projection.js';
import type { ProjectorCounters, RateMeter } from './projector-counters.js';
import { checkOps } from './write-ops.js';

export type Tuning = {
  /** A batch is written once it holds this many events… */
  batchSize: number;
  /** …or this long after its first event came in, whichever is first. */
  flushIntervalMs: number;
  /**
   * 'idle' (the default): also as soon as the subscription has nothing more to give at once, so a
   * batch is whatever was already there (group commit) and a lone event waits for no timer; size
   * and interval still bound a batch under load. 'timer': by size and interval only.
   */
  flush?: 'idle' | 'timer';
  /** Tries of a handler before its event parks, and of a batch write before its events are isolated. */
  maxAttempts: number;
  /** First pause between tries; it doubles. */
  backoffMs: number;
  /** Time an after-flush hook gets before the projector moves on without it. */
  afterFlushTimeoutMs: number;
};

export type ProjectRun = {
  projection: Projection;
  eventStore: EventStore;
  readStore: ReadStore;
  logger: Logger;
  tuning: Tuning;
  counters: ProjectorCounters;
  rate?: RateMeter;
  /** Recorded on parked events. */
  instance: string;
  /**
   * The streams whose events park behind an earlier parked one, kept across runs. Default: none at
   * the start, then those this run parks (a rebuild starts over from the first event).
   */
  blocked?: BlockedStreams;
  /** Exclusive: the checkpoint to start after. */
  after: Position | undefined;
  /** Ends the run once the checkpoint reaches this position. */
  until?: Position;
  collectionName: (name: string) => string;
  /** Ends the run after writing what is pending (a graceful stop). */
  signal: AbortSignal;
  /** Ends the run at once, dropping what is pending (the lease is gone). */
  abandon?: AbortSignal;
  /** Throws when this run may no longer write. Checked before every batch. */
  assertMayWrite?: () => void;
  /** Commits the checkpoint after the batch's writes; throws when fenced off. */
  commit?: (position: Position) => Promise<void>;
  /** Run the projection's after-flush hook (live projection does; a rebuild does not). */
  runAfterFlush?: boolean;
  onFlushed?: (checkpoint: Position | undefined) => void;
  now?: () => Date;
};

type Batch = { entries: BatchEntry[]; last?: Position; scannedTo?: Position };

const max = (a: Position | undefined, b: Position | undefined) =>
  a === undefined ? b : b === undefined ? a : a > b ? a : b;

/**
 * One run of a projection over the event log: subscribe after the checkpoint, turn each event into
 * writes, write them in batches (once the subscription has nothing more at hand, or by count, or by
 * time), one bulkWrite per collection, THEN commit the checkpoint. Batches are written one after
 * another, and a batch that fails stops every later one, so a checkpoint never passes an event
 * whose writes were not made. Resolves with the last checkpoint committed.
 */
export const project = async (run: ProjectRun): Promise<Position | undefined> => {
  const { projection, eventStore, readStore, logger, tuning, counters, until, abandon } = run;
  if (until !== undefined && run.after !== undefined && run.after >= until) return run.after;
  const now = run.now ?? (() => new Date());
  const blocked = run.blocked ?? blockedStreams();
  const writeBatch = createBatchWriter({
    projection,
    readStore,
    logger,
    policy: tuning,
    counters,
    instance: run.instance,
    blocked,
    handle: (event) => runHandler(event),
    collectionName: run.collectionName,
    now,
  });

  // Ends the subscription: on stop, on abandon, on reaching `until`, or on a failed batch.
  // AbortSignal.any holds its sources weakly, so runs that come and go leave no listeners behind.
  const end = new AbortController();
  const ended = AbortSignal.any([end.signal, run.signal, ...(abandon ? [abandon] : [])]);

  let checkpoint = run.after;
  let batch: Batch = { entries: [] };
  let failure: unknown;
  let flushing: Promise<void> = Promise.resolve();
  // A write is queued behind the one in flight and has not taken its batch yet: it will take
  // whatever has come in by then, so asking again adds nothing.
  let queued = false;
  let timer: NodeJS.Timeout | undefined;
  // Whether the loop is waiting on the subscription for its next event (rather than handling one,
  // or waiting for a full batch to be written), and the check that looks at it.
  let waiting = true;
  let idleCheck: NodeJS.Immediate | undefined;
  const flushOnIdle = (tuning.flush ?? 'idle') === 'idle';

  const fail = (error: unknown) => {
    failure ??= error;
    end.abort();
  };

  const writeTaken = async () => {
    queued = false;
    clearTimeout(timer);
    timer = undefined;
    clearImmediate(idleCheck);
    idleCheck = undefined;
    const taken = batch;
    batch = { entries: [] };
    const position = max(taken.last, taken.scannedTo);
    const advances = position !== undefined && (checkpoint === undefined || position > checkpoint);
    if (taken.entries.length === 0 && !advances) return;
    if (abandon?.aborted) throw abandon.reason;
    run.assertMayWrite?.();

    const touched = taken.entries.length > 0 ? await writeBatch(taken.entries) : new Map();
    if (advances) {
      await run.commit?.(position);
      checkpoint = position;
    }
    counters.eventsProjected += taken.entries.length;
    if (taken.entries.length > 0) counters.batches++;
    run.rate?.record(taken.entries.length);
    run.onFlushed?.(checkpoint);
    if (run.runAfterFlush && touched.size > 0) await afterFlush(touched);
    if (until !== undefined && checkpoint !== undefined && checkpoint >= until) end.abort();
  };

  // Chained: a batch starts once the one before it is written; after a failure, none does.
  const flush = (): Promise<void> => {
    if (!queued) {
      queued = true;
      flushing = flushing.then(writeTaken);
    }
    return flushing;
  };

  const pending = () =>
    batch.entries.length > 0 ||
    (batch.scannedTo !== undefined && (checkpoint === undefined || batch.scannedTo > checkpoint));

  // A check runs once the microtasks queued so far have run (setImmediate): if the loop is still
  // waiting on the subscription then, the subscription has nothing at hand (it waits for I/O, an
  // append, or its poll) and the batch goes now. An in-process store hands a whole page over in
  // microtasks, so a catch-up is not cut into small batches. When the loop is busy instead, the
  // check is armed again as the loop goes back to waiting (arm), not on every turn of the event
  // loop, which would spin while a write is in flight.
  const checkIdle = () => {
    idleCheck = undefined;
    if (waiting && pending()) flush().catch(fail);
  };
  const arm = () => {
    if (flushOnIdle && pending()) idleCheck ??= setImmediate(checkIdle);
  };

  const schedule = () => {
    timer ??= setTimeout(() => flush().catch(fail), tuning.flushIntervalMs);
    arm();
  };

  let hookFailing = false;
  const afterFlush = async (touched: Map<string, Set<string>>) => {
    const hook = projection.afterFlush;
    if (!hook) return;
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new Error(`after-flush hook took longer than ${tuning.afterFlushTimeoutMs} ms`)),
      tuning.afterFlushTimeoutMs,
    );
    const timedOut = new Promise<never>((_, reject) =>
      timeout.signal.addEventListener('abort', () => reject(timeout.signal.reason), { once: true }),
    );
    try {
      await Promise.race([
        hook({
          projection: projection.name,
          touched,
          collection: (name) => readStore.collection(run.collectionName(name)),
          signal: timeout.signal,
        }),
        timedOut,
      ]);
      if (hookFailing) logger.info('after-flush hook works again');
      hookFailing = false;
    } catch (error) {
      counters.afterFlushFailures++;
      // Logged when it starts failing, not on every batch while the cache is down.
      if (!hookFailing) logger.warn({ err: error }, 'after-flush hook failed; projection goes on');
      hookFailing = true;
    } finally {
      clearTimeout(timer);
      timeout.abort();
    }
  };

  // The first try is synchronous: a handler that works, as nearly all do, costs the loop no await.
  const runHandler = (event: RecordedEvent): BatchEntry | Promise<BatchEntry> => {
    try {
      return { event, ops: checkOps(projection, projection.handle(event)) };
    } catch (error) {
      return retryHandler(event, error);
    }
  };

  // A loop rather than the shared retry(): this runs for every event, and a handler is synchronous.
  const retryHandler = async (event: RecordedEvent, firstError: unknown): Promise<BatchEntry> => {
    let lastError = firstError;
    for (let attempt = 2; attempt <= tuning.maxAttempts; attempt++) {
      counters.retries++;
      await sleep(backoffDelayMs(attempt - 1, projectorBackoff(tuning.backoffMs)));
      try {
        return { event, ops: checkOps(projection, projection.handle(event)) };
      } catch (error) {
        lastError = error;
      }
    }
    logger.error(
      { err: lastError, position: String(event.position), streamId: event.streamId, type: event.type },
      'event parked: its handler kept failing; later events of its stream park behind it',
    );
    const parked = parkedEventDocument({
      projection: projection.name,
      event,
      error: lastError,
      attempts: tuning.maxAttempts,
      parkedBy: run.instance,
      now: now(),
    });
    blocked.block(event.streamId, parked._id);
    return { event, ops: {}, parked };
  };

  // An event of a blocked stream is held, its handler not run: the batch writer decides when it
  // writes the batch, once it has read whether the stream is still blocked (a replay unblocks it).
  const handle = (event: RecordedEvent): BatchEntry | Promise<BatchEntry> =>
    blocked.parkedAt(event.streamId) === undefined ? runHandler(event) : { event, ops: {}, held: true };

  // A damaged event (the store found its checksum wrong) cannot be handled: its content is not
  // what was written. It parks, with the store's error, and the later events of its stream park
  // behind it, as after a handler that keeps failing; the run subscribes again after it.
  const parkDamaged = (error: CorruptEventError): BatchEntry => {
    const event: RecordedEvent = {
      streamId: error.streamId,
      revision: error.revision,
      position: error.position,
      type: error.storedType ?? 'unknown',
      data: null,
      metadata: { eventId: '', correlationId: '', causationId: '', occurredAt: '', schemaVersion: 0 },
    };
    logger.error(
      { err: error, position: String(error.position), streamId: error.streamId, revision: error.revision },
      'event parked: it is damaged in the event log; later events of its stream park behind it',
    );
    const parked: ParkedEventDocument = {
      ...parkedEventDocument({
        projection: projection.name,
        event,
        error,
        attempts: 1,
        parkedBy: run.instance,
        now: now(),
      }),
      damaged: true,
    };
    // Not blocked here but by the batch writer, in batch order: events of its stream before it may
    // still be in the batch, and must not park behind it.
    return { event, ops: {}, parked };
  };

  /**
   * Adds an event's entry to the batch; true once the run has reached `until`. A promise only when
   * the batch is full and the loop waits for its write.
   */
  const add = (entry: BatchEntry): boolean | Promise<boolean> => {
    // Only now: a timed flush may have swapped the batch while the handler was being retried.
    batch.entries.push(entry);
    batch.last = entry.event.position;
    if (until !== undefined && entry.event.position >= until) return true;
    if (batch.entries.length < tuning.batchSize) {
      schedule();
      return false;
    }
    return writeFull();
  };
  const writeFull = async () => {
    await flush();
    // In-process stores (SQLite, embedded) answer without waiting on I/O, so a catch-up would
    // otherwise be one stretch of microtasks: no lease renewal, signal or HTTP request between.
    await yieldToEventLoop();
    return false;
  };

  let from = run.after;
  try {
    for (let reached = false; !reached; ) {
      const subscription = eventStore.subscribeToAll({
        after: from,
        filter: { eventTypes: projection.eventTypes, streamPrefixes: projection.streamPrefixes },
        signal: ended,
        // Every event up to here was yielded (and is in a batch): the checkpoint may move past the
        // events in between that this projection does not read.
        onCheckpoint: (position) => {
          batch.scannedTo = max(batch.scannedTo, position);
          if (until !== undefined && position >= until) end.abort();
          else schedule();
        },
      });
      try {
        for await (const event of subscription) {
          waiting = false;
          from = event.position;
          // Awaited only when there is something to wait for (a retried handler, a full batch):
          // on a catch-up, an await per event is a good part of what the engine itself costs.
          let entry = handle(event);
          if (entry instanceof Promise) entry = await entry;
          let added = add(entry);
          if (added instanceof Promise) added = await added;
          reached = added;
          if (reached) break;
          waiting = true;
          arm();
        }
        reached = true; // the subscription ended: stopped, abandoned, or `until` reached
      } catch (error) {
        if (!isCorruptEvent(error) || ended.aborted) throw error;
        waiting = false;
        from = error.position;
        reached = await add(parkDamaged(error));
        waiting = true;
        arm();
      }
    }
  } catch (error) {
    fail(error);
  }
  clearTimeout(timer);
  clearImmediate(idleCheck);
  if (failure === undefined && !abandon?.aborted) await flush().catch(fail);
  else await flushing.catch(() => {}); // let a write in flight finish before anyone starts over
  if (failure !== undefined) throw failure;
  return checkpoint;
};
