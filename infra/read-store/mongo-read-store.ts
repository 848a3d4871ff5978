import { randomUUID } from 'node:crypto';
import {
  type AnyBulkWriteOperation,
  type CommandStartedEvent,
  MongoBulkWriteError,
  type BulkWriteResult as MongoBulkWriteResult,
  MongoClient,
  type Filter as MongoFilter,
  MongoServerError,
  type ReadPreferenceMode,
} from 'mongodb';
import type {
  BulkWriteResult,
  Collection,
  Document,
  Filter,
  ReadStore,
  Update,
  WriteOp,
} from './read-store.js';
import { isOperatorObject, seedFromFilter, upsertDocument } from './upsert-document.js';

export type MongoReadStoreOptions = {
  /** A replica set URL, e.g. mongodb://h1:27017,h2:27017,h3:27017/?replicaSet=rs0 */
  url: string;
  /** Defaults to the database named in the URL, else the driver's default. */
  dbName?: string;
  /**
   * Where reads go. The default, secondaryPreferred, spreads read-model queries over the replicas;
   * such reads may lag the projector's writes by the replication delay, which the read API's
   * x-min-position wait covers. Use 'primary' where a read must see the write just made.
   */
  readPreference?: ReadPreferenceMode;
  /**
   * How long a write waits for a majority of the replica set before it fails (`wtimeout`). Without
   * it a write hangs for as long as the majority is gone. A write that timed out may still have
   * been applied on the primary; every write here is guarded or idempotent, so retrying is safe.
   */
  writeTimeoutMs?: number;
  /** Told of every command sent to the server (the driver's command monitoring): for tests and tracing. */
  onCommandStarted?: (event: CommandStartedEvent) => void;
};

export const DEFAULT_WRITE_TIMEOUT_MS = 5_000;

/**
 * FerretDB's `update` command holds a pooled SQLite connection per matching statement until the
 * command ends, out of 100 per database: a command of about 100 statements hangs that database.
 * Against FerretDB, update commands carry at most this many statements, so a few can run at once.
 */
export const FERRETDB_STATEMENTS_PER_WRITE = 32;

/** What the adapter does differently for a server that is FerretDB (buildInfo.ferretdbVersion). */
type ServerQuirks = {
  statementsPerWrite: number;
  /** FerretDB's $setOnInsert skips top-level null and [] values, where MongoDB stores them. */
  setOnInsertSkipsNullAndEmptyArray: boolean;
};

/** Where checkWrites() writes its one document. */
export const WRITE_PROBE_COLLECTION = 'read_store_health';

const DUPLICATE_KEY = 11000;
const NAMESPACE_NOT_FOUND = 26;
const NOT_IMPLEMENTED = 238;

/**
 * The read-model store on MongoDB. Writes wait for a majority of the replica set, within
 * `writeTimeoutMs`, so a checkpoint committed after them cannot outlive the documents on a
 * failover, and a lost majority fails writes instead of hanging them.
 */
export const createMongoReadStore = async ({
  url,
  dbName,
  readPreference = 'secondaryPreferred',
  writeTimeoutMs = DEFAULT_WRITE_TIMEOUT_MS,
  onCommandStarted,
}: MongoReadStoreOptions): Promise<ReadStore> => {
  const client = new MongoClient(url, {
    // An undefined field is absent, as in JSON (the event log) and in the embedded store; the
    // driver would store null, which a schema of optional fields then refuses.
    ignoreUndefined: true,
    monitorCommands: onCommandStarted !== undefined,
  });
  if (onCommandStarted) client.on('commandStarted', onCommandStarted);
  await client.connect();
  const db = client.db(dbName, {
    readPreference,
    writeConcern: { w: 'majority', wtimeoutMS: writeTimeoutMs },
  });
  const quirks: ServerQuirks = (await isFerretDB(client))
    ? { statementsPerWrite: FERRETDB_STATEMENTS_PER_WRITE, setOnInsertSkipsNullAndEmptyArray: true }
    : // The driver splits at the server's own limits.
      { statementsPerWrite: Number.POSITIVE_INFINITY, setOnInsertSkipsNullAndEmptyArray: false };

  const collection = <T extends Document>(name: string): Collection<T> => {
    // The driver's typings want its own document types; the port's are plain JSON-shaped objects.
    const mongo = db.collection<Document>(name);
    return {
      async findOne(filter) {
        return (await mongo.findOne(filter as MongoFilter<Document>)) as T | null;
      },

      async find(filter, { sort, limit } = {}) {
        let cursor = mongo.find(filter as MongoFilter<Document>);
        if (sort) cursor = cursor.sort(sort);
        if (limit && limit > 0) cursor = cursor.limit(limit);
        return (await cursor.toArray()) as T[];
      },

      async countDocuments(filter = {}) {
        return mongo.countDocuments(filter as MongoFilter<Document>);
      },

      async bulkWrite(operations) {
        const result: BulkWriteResult = { applied: 0, duplicates: 0 };
        for (const run of plan(operations, quirks)) {
          const counted = await writeRun(run, (statements) =>
            mongo.bulkWrite(statements as AnyBulkWriteOperation<Document>[], { ordered: true }),
          );
          result.applied += counted.applied;
          result.duplicates += counted.duplicates;
        }
        return result;
      },

      async createIndex(keys, { unique = false } = {}) {
        await mongo.createIndex(keys, { unique });
      },
    };
  };

  /** Renames `from` over `to` where the server cannot do it in one step: `to` is briefly missing. */
  const renameInSteps = async (from: string, to: string) => {
    if (!(await db.listCollections({ name: from }, { nameOnly: true }).hasNext()))
      throw new Error(`cannot rename ${from}: the collection does not exist`);
    const aside = `${to}__replaced_${randomUUID().slice(0, 8)}`;
    let movedAside = false;
    try {
      await db.renameCollection(to, aside);
      movedAside = true;
    } catch (error) {
      if (!(error instanceof MongoServerError) || error.code !== NAMESPACE_NOT_FOUND) throw error;
    }
    try {
      await db.renameCollection(from, to);
    } catch (error) {
      if (movedAside) await db.renameCollection(aside, to).catch(() => {});
      throw error;
    }
    if (movedAside) await db.dropCollection(aside);
  };

  return {
    collection,

    async dropCollection(name) {
      await db.dropCollection(name); // the driver already treats a missing collection as dropped
    },

    async renameCollection(from, to) {
      try {
        await db.renameCollection(from, to, { dropTarget: true }); // atomic on MongoDB
      } catch (error) {
        // FerretDB has no dropTarget (NotImplemented): move the old target aside instead.
        if (!(error instanceof MongoServerError) || error.code !== NOT_IMPLEMENTED) throw error;
        await renameInSteps(from, to);
      }
    },

    async ping() {
      await db.command({ ping: 1 });
    },

    async checkWrites() {
      // As every write: majority-acknowledged within writeTimeoutMs. A primary that has lost its
      // majority still answers ping; this fails instead.
      await db
        .collection<{ _id: string; at: Date }>(WRITE_PROBE_COLLECTION)
        .updateOne({ _id: 'write-probe' }, { $set: { at: new Date() } }, { upsert: true });
    },

    async now() {
      // The primary's clock (hello.localTime, in MongoDB and FerretDB alike), moved on by half the
      // round trip. $$NOW in an update pipeline would save the round trip; FerretDB has no pipelines.
      const sent = Date.now();
      const { localTime } = await db.command({ hello: 1 }, { readPreference: 'primary' });
      const elapsed = Date.now() - sent;
      if (!(localTime instanceof Date)) throw new Error('the server did not tell its time (hello.localTime)');
      return new Date(localTime.getTime() + elapsed / 2);
    },

    async close() {
      await client.close();
    },
  };
};

const isFerretDB = async (client: MongoClient) => {
  try {
    return typeof (await client.db('admin').command({ buildInfo: 1 })).ferretdbVersion === 'string';
  } catch {
    return false;
  }
};

/*
 * bulkWrite. The port applies operations in order and counts a write that would create a second
 * document with an existing _id (or a repeated unique key) as a skipped duplicate. An ordered
 * bulkWrite stops at such an error, so sending the operations as they are costs a round trip per
 * duplicate: a replayed batch of 500 guarded upserts took 500. And FerretDB's `update` command
 * reports a failing statement at index 0 without counts, wherever it was.
 *
 * So the writes that could collide on _id are sent in a form that cannot:
 * - a guarded upsert (`{ _id: X, revision: { $lt: r } }`, upsert) becomes the update without upsert,
 *   then `{ _id: X }` with `$setOnInsert` of the document the upsert would have inserted (MongoDB's
 *   upsert rules, upsert-document.ts). Exactly one of three things happens: the guard matches (the
 *   first applies), no document exists (the second inserts), or the document exists and the guard
 *   does not match (neither writes: the duplicate). The second always matches or inserts.
 * - an insert of a document with an _id becomes `{ _id }` with `$setOnInsert` of the rest: it
 *   inserts (applied) or matches (the duplicate).
 * A run of such "conditional" writes is one ordered bulkWrite, counted from its totals:
 * applied = matched + 2 × upserted − writes; the other writes were duplicates.
 *
 * Writes that cannot collide on _id (no upsert, an upsert on `{ _id }` alone or on no _id, deletes)
 * go in "plain" runs, where applied = inserted + matched + upserted + deleted. Upserts the rewrite
 * does not cover (update operators beyond the few below, an _id that is not a string or number) go
 * alone. A duplicate on a unique secondary index still stops a run: it is counted and the run
 * goes on after it, one more round trip each, as before. FerretDB's $setOnInsert skips top-level
 * null and [] values: there, a write whose new document has one is sent as it is.
 */

type Kind = 'plain' | 'conditional';
type Statement = AnyBulkWriteOperation<Document> | Record<string, unknown>;
type Step = { kind: Kind; statements: Statement[]; alone?: boolean };
type Run = { kind: Kind; steps: Step[] };

const plan = (operations: readonly WriteOp[], quirks: ServerQuirks): Run[] => {
  const runs: Run[] = [];
  let current: Run | undefined;
  let size = 0;
  for (const operation of operations) {
    const step = stepFor(operation, quirks);
    const fits =
      current !== undefined &&
      !step.alone &&
      current.kind === step.kind &&
      size + step.statements.length <= quirks.statementsPerWrite;
    if (fits) {
      current!.steps.push(step);
      size += step.statements.length;
      continue;
    }
    current = { kind: step.kind, steps: [step] };
    size = step.statements.length;
    runs.push(current);
    if (step.alone) current = undefined;
  }
  return runs;
};

const stepFor = (operation: WriteOp, quirks: ServerQuirks): Step => {
  const plain = (): Step => ({ kind: 'plain', statements: [operation] });
  const alone = (): Step => ({ kind: 'plain', statements: [operation], alone: true });
  const conditional = (...statements: Statement[]): Step => ({ kind: 'conditional', statements });
  const insertIfMissing = (_id: string | number, fields: Record<string, unknown>) => ({
    updateOne: { filter: { _id }, update: { $setOnInsert: fields }, upsert: true },
  });
  /** Whether $setOnInsert would store `fields` as they are on this server. */
  const insertable = (fields: Record<string, unknown>) =>
    storableAsIs(fields) &&
    !(
      quirks.setOnInsertSkipsNullAndEmptyArray &&
      Object.values(fields).some((value) => value === null || (Array.isArray(value) && value.length === 0))
    );

  if ('insertOne' in operation) {
    const { _id, ...fields } = operation.insertOne.document as Record<string, unknown>;
    if (_id === undefined) return plain(); // the server names it: no collision on _id
    if (isPlainId(_id) && insertable(fields)) return conditional(insertIfMissing(_id, fields));
    // As it is: a duplicate stops its run, is counted, and the rest is sent again.
    return plain();
  }
  if ('deleteOne' in operation) return plain();
  if ('updateOne' in operation) {
    const { filter, update, upsert } = operation.updateOne;
    if (!upsert || cannotCollideOnId(filter)) return plain();
    const inserted = isPlainId(filter._id) ? upsertInsert(filter, update) : undefined;
    if (!inserted) return alone();
    const { _id, ...fields } = inserted;
    if (!insertable(fields)) return alone();
    return conditional({ updateOne: { filter, update } }, insertIfMissing(filter._id as string, fields));
  }
  const { filter, replacement, upsert } = operation.replaceOne;
  if (!upsert || cannotCollideOnId(filter)) return plain();
  const { _id, ...fields } = replacement as Record<string, unknown>;
  if (!isPlainId(filter._id) || (_id !== undefined && _id !== filter._id) || !insertable(fields))
    return alone();
  return conditional({ replaceOne: { filter, replacement } }, insertIfMissing(filter._id, fields));
};

const isPlainId = (id: unknown): id is string | number =>
  typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));

/** An upsert on `{ _id }` alone matches or inserts that _id; one on no _id gets a new one. */
const cannotCollideOnId = (filter: Filter) => {
  const keys = Object.keys(filter);
  if (keys.length === 1 && keys[0] === '_id' && isPlainId(filter._id)) return true;
  return seedFromFilter(filter)._id === undefined;
};

/** Field names a `$setOnInsert` stores as they are: no dotted paths, no operators, at any depth. */
const storableAsIs = (value: unknown): boolean => {
  if (Array.isArray(value)) return value.every(storableAsIs);
  if (typeof value !== 'object' || value === null || value instanceof Date) return true;
  return Object.entries(value).every(
    ([key, inner]) => !key.includes('.') && !key.startsWith('$') && storableAsIs(inner),
  );
};

/** Update operators whose effect on a new document is plain (set, add to nothing, compare with nothing). */
const INSERTABLE_OPERATORS = new Set(['$set', '$setOnInsert', '$unset', '$inc', '$max', '$min', '$push']);

/**
 * The document the upsert would insert, or undefined where this adapter does not work it out:
 * other operators, positional paths, $push modifiers, or anything MongoDB's rules refuse.
 */
const upsertInsert = (filter: Filter, update: Update): Record<string, unknown> | undefined => {
  for (const [operator, fields] of Object.entries(update)) {
    if (!INSERTABLE_OPERATORS.has(operator)) return undefined;
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return undefined;
    for (const [path, value] of Object.entries(fields)) {
      if (path.split('.').some((part) => part === '' || part.startsWith('$'))) return undefined;
      if (operator === '$push' && isOperatorObject(value)) return undefined;
      if (!storableAsIs(value)) return undefined;
    }
  }
  try {
    const inserted = upsertDocument(filter, update);
    return inserted._id === filter._id ? inserted : undefined;
  } catch {
    return undefined;
  }
};

/** Writes one run, counting; a duplicate on a unique index is counted and the rest sent again. */
const writeRun = async (
  run: Run,
  send: (statements: Statement[]) => Promise<MongoBulkWriteResult>,
): Promise<BulkWriteResult> => {
  const result: BulkWriteResult = { applied: 0, duplicates: 0 };
  const add = (steps: readonly Step[], done: MongoBulkWriteResult) => {
    const counted = countRun(run.kind, steps.length, done);
    result.applied += counted.applied;
    result.duplicates += counted.duplicates;
  };
  let steps = run.steps;
  while (steps.length > 0) {
    try {
      const done = await send(steps.flatMap((step) => step.statements));
      add(steps, done);
      return result;
    } catch (error) {
      const statement = duplicateKeyIndex(error);
      if (statement === undefined) throw error;
      // The step the failing statement belongs to; the ones before it were written.
      let failed = 0;
      for (let start = 0; failed < steps.length; failed++) {
        start += (steps[failed] as Step).statements.length;
        if (statement < start) break;
      }
      add(steps.slice(0, failed), (error as MongoBulkWriteError).result);
      result.duplicates++;
      steps = steps.slice(failed + 1);
    }
  }
  return result;
};

const countRun = (kind: Kind, steps: number, done: MongoBulkWriteResult): BulkWriteResult => {
  if (kind === 'plain')
    return {
      applied: done.insertedCount + done.matchedCount + done.upsertedCount + done.deletedCount,
      duplicates: 0,
    };
  // Each conditional write matches or inserts once in its last statement, and a guarded one
  // matches once more when its guard held; it applied if either its guard held or it inserted.
  const applied = Math.min(steps, Math.max(0, done.matchedCount + 2 * done.upsertedCount - steps));
  return { applied, duplicates: steps - applied };
};

/**
 * The index of the statement that failed with E11000 alone, or undefined for any other failure.
 * A write-concern error means even the writes before it are not known to be majority-durable, so
 * it is never treated as a duplicate.
 */
const duplicateKeyIndex = (error: unknown): number | undefined => {
  if (!(error instanceof MongoBulkWriteError) || error.result.getWriteConcernError()) return undefined;
  const writeErrors = [error.writeErrors].flat();
  const [first] = writeErrors;
  if (writeErrors.length !== 1 || first?.code !== DUPLICATE_KEY) return undefined;
  return first.index;
};
