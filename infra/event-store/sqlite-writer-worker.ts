/**
 * The thread that owns the embedded store's write connection (started by sqlite-writer.ts). It
 * receives appends from the main thread, commits them in group transactions, and answers each
 * append only once the transaction holding it has committed, with the connection's `synchronous`
 * setting (an fsync per commit with 'full').
 *
 * Group commit: appends that arrive while a commit is in flight (the commit, fsync included, runs
 * synchronously on this thread, so they wait in the message port) are taken together by the next
 * commit. Each runs in its own savepoint (a transaction function called inside another), so a
 * failed revision check undoes only that append. IMMEDIATE takes the write lock before any revision
 * is read, so a writer on another connection (another process, a script) cannot slip in between.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { checkExpectedRevision, WrongExpectedRevisionError } from './event-store.js';
import { insertStatement, openDatabaseFile } from './sqlite-database.js';
import type {
  SerializedError,
  WriterOptions,
  WriterRequest,
  WriterResult,
  WriterToMain,
  WriterToThread,
} from './sqlite-writer.js';

const port = parentPort;
if (!port) throw new Error('sqlite-writer-worker runs as a worker thread');
const { file, synchronous, pragmas } = workerData as WriterOptions;

const db = openDatabaseFile(file);
db.pragma('journal_mode = WAL');
// Per connection: this is the connection whose commits the setting must govern.
db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
for (const pragma of pragmas ?? []) db.pragma(pragma);

const lastRevision = db.prepare('SELECT MAX(revision) FROM events WHERE stream_id = ?').pluck();
const insert = insertStatement(db);

const appendOne = db.transaction(({ streamId, events, expected }: WriterRequest) => {
  const current = lastRevision.get(streamId) as number | null;
  checkExpectedRevision(streamId, expected, current ?? undefined);
  let revision = current ?? -1;
  let position: number | bigint = 0;
  for (const { type, data, metadata } of events) {
    revision += 1;
    position = insert(streamId, revision, type, data, metadata);
  }
  return { nextRevision: revision, position };
});

const serialize = (error: unknown): SerializedError => {
  if (error instanceof WrongExpectedRevisionError)
    return {
      kind: 'wrong-expected-revision',
      streamId: error.streamId,
      expected: error.expected,
      actual: error.actual,
    };
  const { name, message, code } = error as { name?: string; message?: string; code?: unknown };
  return {
    kind: 'error',
    name: typeof name === 'string' ? name : 'Error',
    message: typeof message === 'string' ? message : String(error),
    ...(typeof code === 'string' && { code }),
  };
};

const commitAll = db.transaction((batch: WriterRequest[]): WriterResult[] =>
  batch.map((request) => {
    try {
      return { id: request.id, ...appendOne(request) };
    } catch (error) {
      // Some errors (a full disk, I/O) make SQLite roll back the whole transaction, not just the
      // savepoint: nothing before this append stands, and what follows would commit on its own.
      if (!db.inTransaction) throw error;
      return { id: request.id, error: serialize(error) };
    }
  }),
);

let pending: WriterRequest[] = [];
let scheduled: NodeJS.Immediate | undefined;

const commit = () => {
  scheduled = undefined;
  const batch = pending;
  pending = [];
  if (batch.length === 0) return;
  let results: WriterResult[];
  try {
    results = commitAll.immediate(batch);
  } catch (error) {
    // Nothing of the batch was committed.
    const failed = serialize(error);
    results = batch.map(({ id }) => ({ id, error: failed }));
  }
  port.postMessage({ type: 'committed', results } satisfies WriterToMain);
};

port.on('message', (message: WriterToThread) => {
  if (message.type === 'append') {
    for (const request of message.appends) pending.push(request);
    scheduled ??= setImmediate(commit);
    return;
  }
  // 'close': commit what came before it, then let the thread end.
  clearImmediate(scheduled);
  commit();
  db.close();
  port.close();
});
port.postMessage({ type: 'ready' } satisfies WriterToMain);
