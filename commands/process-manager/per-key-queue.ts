import type { Position } from '../../infra/event-store/event-store.js';
import type { Logger } from '../../infra/logger.js';

/** What a process manager's `advance` may tell the engine about the key it works on. */
export type AdvanceContext = {
  /** Milliseconds since the epoch: a retry of this key is never put off past it (deadline.ts). */
  setDeadline(at: number | undefined): void;
  /** Fields for the log lines about this key, e.g. its correlation id. */
  setLogFields(fields: Record<string, unknown>): void;
};

/** Per key: the events that woke it and are not done, and whether a pass runs or waits to retry. */
type Work = {
  positions: Position[];
  running: boolean;
  again: boolean;
  failures: number;
  retry?: NodeJS.Timeout;
  deadline?: number;
  logFields: Record<string, unknown>;
};

export type PerKeyQueueOptions = {
  /** One pass over a key: brings it as far as it goes now. Throws to be tried again later. */
  advance(key: string, context: AdvanceContext): Promise<void>;
  /** A position handed to schedule() is done: its key has been advanced past it. */
  done(position: Position): void;
  /**
   * The pause before the next try of a key that failed `failures` times, with its deadline and
   * when the failed pass started.
   */
  retryDelay(failures: number, deadline: number | undefined, passStartedAt: number): number;
  /** The clock the deadlines are judged by. Default Date.now. */
  now?: () => number;
  /** Once aborted, failed keys are not retried and running keys stop after their current pass. */
  ended: AbortSignal;
  logger: Logger;
  /** Hears each pass end (the number running went down). */
  onPassEnded(): void;
};

/**
 * Per-key ordering and concurrency: keys are worked concurrently, each one pass at a time. An event
 * for a key already in hand only asks for another pass once the current one ends (every pass
 * starts from what the streams say then, so one more pass covers any number of events). A pass
 * that fails is retried after `retryDelay`, covering the same positions; a pass that succeeds
 * marks every position it covered done.
 */
export const createPerKeyQueue = ({
  advance,
  done,
  retryDelay,
  ended,
  logger,
  onPassEnded,
  now = Date.now,
}: PerKeyQueueOptions) => {
  const work = new Map<string, Work>();
  let running = 0;

  const schedule = (key: string, position?: Position) => {
    let w = work.get(key);
    if (!w) {
      w = { positions: [], running: false, again: false, failures: 0, logFields: {} };
      work.set(key, w);
    }
    if (position !== undefined) w.positions.push(position);
    if (w.running) {
      w.again = true;
      return;
    }
    clearTimeout(w.retry);
    w.retry = undefined;
    void run(key, w);
  };

  const run = async (key: string, w: Work) => {
    w.running = true;
    running++;
    const context: AdvanceContext = {
      setDeadline: (at) => {
        w.deadline = at;
      },
      setLogFields: (fields) => {
        w.logFields = fields;
      },
    };
    try {
      do {
        w.again = false;
        const covered = w.positions.splice(0);
        const startedAt = now();
        try {
          await advance(key, context);
          w.failures = 0;
          for (const position of covered) done(position);
        } catch (error) {
          w.positions.unshift(...covered);
          w.failures++;
          if (ended.aborted) break;
          const delay = retryDelay(w.failures, w.deadline, startedAt);
          logger.warn(
            { err: error, ...w.logFields, key, failures: w.failures, retryInMs: Math.round(delay) },
            'process manager step failed',
          );
          w.retry = setTimeout(() => schedule(key), delay);
          break;
        }
      } while (w.again && !ended.aborted);
    } finally {
      w.running = false;
      running--;
      if (w.positions.length === 0 && w.retry === undefined) work.delete(key);
      onPassEnded();
    }
  };

  return {
    /** Asks for a pass over `key`, for the event at `position` (none: a retry). */
    schedule,
    /** Keys with a pass running now. */
    get running(): number {
      return running;
    },
    /** Cancels every retry waiting to run. */
    cancelRetries(): void {
      for (const w of work.values()) clearTimeout(w.retry);
    },
  };
};

export type PerKeyQueue = ReturnType<typeof createPerKeyQueue>;
