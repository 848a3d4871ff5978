import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  type AppendResult,
  type EventData,
  EventStoreUnavailableError,
  type ExpectedRevision,
  WrongExpectedRevisionError,
} from './event-store.js';
import type { SqliteSynchronous } from './sqlite-database.js';

/**
 * The embedded store's writer: appends are committed by a thread of their own
 * (sqlite-writer-worker.ts), which owns the write connection, so the commit and its fsync never
 * block the main thread's event loop: requests, stream reads and projections go on while a
 * transaction is being made durable, and the appends that come in meanwhile are committed together
 * by the next transaction (group commit), one fsync for all of them.
 *
 * The main thread turns each append's data and metadata into JSON at once (an append that cannot
 * be serialized fails alone, before anything is sent), gathers the appends of one turn of its event
 * loop into one message, and settles each append's promise when the thread answers that the
 * transaction holding it committed. Revisions are checked and checksums computed in the thread,
 * inside the transaction.
 *
 * If the thread stops (it could not open the file, or failed), the appends it had been given are
 * rejected with EventStoreUnavailableError, which says what a lost answer says: the append may or
 * may not have landed (the command pipeline looks for its events by id before deciding again). The
 * next append starts a new thread.
 */

export type WriterOptions = {
  file: string;
  synchronous: SqliteSynchronous;
  /** Pragmas for the write connection after the store's own (tests: max_page_count meets a full disk). */
  pragmas?: readonly string[];
};

export type WriterRequest = {
  id: number;
  streamId: string;
  events: { type: string; data: string; metadata: string }[];
  expected: ExpectedRevision;
};

export type SerializedError =
  | {
      kind: 'wrong-expected-revision';
      streamId: string;
      expected: ExpectedRevision;
      actual: number | 'no_stream';
    }
  | { kind: 'error'; name: string; message: string; code?: string };

export type WriterResult =
  | { id: number; nextRevision: number; position: number | bigint }
  | { id: number; error: SerializedError };

export type WriterToThread = { type: 'append'; appends: WriterRequest[] } | { type: 'close' };
export type WriterToMain = { type: 'ready' } | { type: 'committed'; results: WriterResult[] };

export type SqliteWriter = {
  append(streamId: string, events: readonly EventData[], expected: ExpectedRevision): Promise<AppendResult>;
  /** Sends what is queued, waits for every answer, and ends the thread. Later appends are refused. */
  close(): Promise<void>;
  /** Why the last thread stopped, until a new one is ready: readiness reports it. */
  readonly failure: Error | undefined;
  /** Transactions committed and appends they held, since the start (for tests and benchmarks). */
  readonly stats: { readonly commits: number; readonly appends: number };
};

/** Rebuilds an error the thread sent: the revision conflict as itself, others with their message and code. */
const deserialize = (error: SerializedError): Error => {
  if (error.kind === 'wrong-expected-revision')
    return new WrongExpectedRevisionError(error.streamId, error.expected, error.actual);
  const rebuilt = new Error(error.message) as Error & { code?: string };
  rebuilt.name = error.name;
  if (error.code !== undefined) rebuilt.code = error.code;
  return rebuilt;
};

/**
 * tsx's ESM API (`tsx/esm/api`, as its package's exports map names it for import): its register()
 * loads TypeScript in the thread that calls it. (tsx's `--import` entry does nothing in a worker
 * thread, and the API's CommonJS build cannot register there.)
 */
const tsxApi = () => {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const exports = JSON.parse(readFileSync(manifest, 'utf8')).exports as Record<
    string,
    { import: { default: string } }
  >;
  const api = exports['./esm/api']?.import.default;
  if (api === undefined) throw new Error(`${manifest} names no ESM API (./esm/api)`);
  return pathToFileURL(join(dirname(manifest), api)).href;
};

/**
 * Where the thread's code is: beside this file, as TypeScript when the app runs from source (then
 * loaded through tsx, which a worker thread does not inherit from `node --import tsx`), as
 * JavaScript when it runs from dist/.
 */
const startThread = (options: WriterOptions): Worker => {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(`./sqlite-writer-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  if (!fromSource) return new Worker(entry, { workerData: options });
  return new Worker(
    `import(${JSON.stringify(tsxApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`,
    { eval: true, workerData: options },
  );
};

type Pending = {
  request: WriterRequest;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
};

export const startSqliteWriter = (
  options: WriterOptions & {
    /**
     * Called once per committed transaction, before any of its appends is settled, with the
     * position of its last event (undefined when every append in it was refused).
     */
    onCommitted: (last: bigint | undefined) => void;
  },
): SqliteWriter => {
  const { onCommitted, ...threadOptions } = options;
  let thread: Worker | undefined;
  let failure: Error | undefined;
  let closed = false;
  let nextId = 0;
  let queue: Pending[] = [];
  let sending: NodeJS.Immediate | undefined;
  const inFlight = new Map<number, Pending>();
  /** Woken when nothing is in flight any more (close waits for it). */
  let drained: (() => void)[] = [];
  const wakeIfDrained = () => {
    if (inFlight.size > 0) return;
    for (const wake of drained) wake();
    drained = [];
  };
  const stats = { commits: 0, appends: 0 };

  const committed = (results: WriterResult[]) => {
    let last: bigint | undefined;
    let landed = 0;
    for (const result of results)
      if ('position' in result) {
        landed++;
        const position = BigInt(result.position);
        if (last === undefined || position > last) last = position;
      }
    if (landed > 0) {
      stats.commits++;
      stats.appends += landed;
    }
    onCommitted(last);
    for (const result of results) {
      const pending = inFlight.get(result.id);
      if (!pending) continue;
      inFlight.delete(result.id);
      if ('error' in result) pending.reject(deserialize(result.error));
      else pending.resolve({ nextRevision: result.nextRevision, position: BigInt(result.position) });
    }
    wakeIfDrained();
  };

  const stopped = (reason: unknown) => {
    thread = undefined;
    failure = reason instanceof Error ? reason : new Error(String(reason));
    const lost = new EventStoreUnavailableError(
      `the SQLite writer thread of ${options.file} stopped: ${failure.message}; the append may or may not have landed`,
      { cause: failure },
    );
    for (const pending of inFlight.values()) pending.reject(lost);
    inFlight.clear();
    wakeIfDrained();
  };

  const start = () => {
    const started = startThread(threadOptions);
    thread = started;
    started.on('message', (message: WriterToMain) => {
      if (message.type === 'ready') failure = undefined;
      else committed(message.results);
    });
    started.on('error', (error) => {
      if (thread === started) stopped(error);
    });
    started.on('exit', (code) => {
      if (thread === started && !closed) stopped(new Error(`it exited with code ${code}`));
    });
    return started;
  };

  const send = () => {
    sending = undefined;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    const to = thread ?? start();
    for (const pending of batch) inFlight.set(pending.request.id, pending);
    to.postMessage({ type: 'append', appends: batch.map(({ request }) => request) } satisfies WriterToThread);
  };

  return {
    append(streamId, events, expected) {
      if (closed) return Promise.reject(new Error(`${options.file}: the store is closed`));
      let request: WriterRequest;
      try {
        request = {
          id: nextId++,
          streamId,
          events: events.map(({ type, data, metadata }) => ({
            type,
            data: JSON.stringify(data) ?? 'null',
            metadata: JSON.stringify(metadata),
          })),
          expected,
        };
      } catch (error) {
        return Promise.reject(error);
      }
      return new Promise<AppendResult>((resolve, reject) => {
        queue.push({ request, resolve, reject });
        sending ??= setImmediate(send);
      });
    },

    async close() {
      if (closed) return;
      clearImmediate(sending);
      send();
      closed = true;
      // Every answer first: the thread ends once it has closed its connection.
      if (inFlight.size > 0) await new Promise<void>((resolve) => drained.push(resolve));
      const running = thread;
      if (!running) return;
      thread = undefined;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.postMessage({ type: 'close' } satisfies WriterToThread);
      await exited;
    },

    get failure() {
      return failure;
    },
    stats,
  };
};
