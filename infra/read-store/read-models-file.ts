import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EventStore, Position } from '../event-store/event-store.js';
import type { Logger } from '../logger.js';
import {
  createEmbeddedReadStore,
  type EmbeddedReadStore,
  ReadStoreFormatError,
} from './embedded-read-store.js';
import type { ReadStore } from './read-store.js';

/**
 * The embedded read models on disk: `DATA_DIR/read-models.sqlite`, kept by the process that owns
 * DATA_DIR (the DATA_DIR lock keeps every other writer out), with the projections' checkpoints in
 * it, so a restart resumes from them instead of replaying the log.
 *
 * Read models are rebuildable from the log, so nothing wrong with this file stops the start: a
 * file SQLite cannot read, or of another format, is moved aside (`*.damaged`, the last one kept
 * for a look) and the read models start empty; so do models that cannot come from the log as it is
 * now (built from another log, or with a checkpoint past its head: an older copy of events.sqlite
 * restored, or a log cut short). Without checkpoints the projections replay the log from its start.
 * Damage deeper in the file (a page SQLite reads only when a query needs it) is met by that query;
 * deleting the file is then how the models are rebuilt.
 */
export const READ_MODELS_FILE = 'read-models.sqlite';

/** The first event's id of the log the models were built from. */
const LOG_KEY = 'log-first-event-id';

export type ReadModelsFileOptions = {
  dataDir: string;
  /** The log the read models are projected from. */
  eventStore: Pick<EventStore, 'headPosition' | 'readAll'>;
  /** Where the read models claim to have reached: the projections' checkpoints (undefined: none yet). */
  checkpoints: (store: ReadStore) => Promise<readonly (Position | undefined)[]>;
  /** Runs on the store once it is opened and checked, before anyone else uses it. */
  prepare?: (store: ReadStore) => Promise<void>;
  log: Pick<Logger, 'info' | 'warn'>;
};

export const openReadModelsFile = async ({
  dataDir,
  eventStore,
  checkpoints,
  prepare,
  log,
}: ReadModelsFileOptions): Promise<EmbeddedReadStore> => {
  const file = join(dataDir, READ_MODELS_FILE);
  let store = openOrSetAside(file, log);
  const stale = await staleBecause(store, eventStore, checkpoints);
  if (stale) {
    log.warn(
      { file, reason: stale },
      'read models dropped: they do not match the event log; the projections rebuild them from its start',
    );
    await store.close();
    removeFiles(file);
    store = createEmbeddedReadStore({ file });
  }
  const first = await firstEventId(eventStore);
  if (typeof first === 'string') store.meta.set(LOG_KEY, first);
  await prepare?.(store);
  return store;
};

const openOrSetAside = (file: string, log: ReadModelsFileOptions['log']): EmbeddedReadStore => {
  try {
    return createEmbeddedReadStore({ file });
  } catch (error) {
    if (!isDamage(error)) throw error;
    log.warn(
      { file, err: error },
      `read models cannot be read; set aside as ${file}.damaged, the projections rebuild them from the start of the log`,
    );
    for (const each of siblings(file)) if (existsSync(each)) renameSync(each, `${each}.damaged`);
    return createEmbeddedReadStore({ file });
  }
};

const isDamage = (error: unknown) => {
  if (error instanceof ReadStoreFormatError) return true;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'));
};

/** Why the models cannot come from the log as it is, or undefined when they may. */
const staleBecause = async (
  store: EmbeddedReadStore,
  eventStore: ReadModelsFileOptions['eventStore'],
  checkpoints: ReadModelsFileOptions['checkpoints'],
): Promise<string | undefined> => {
  const builtFrom = store.meta.get(LOG_KEY);
  const first = await firstEventId(eventStore);
  if (builtFrom !== undefined && first !== undefined && first !== builtFrom)
    return first === null
      ? 'they were built from events, and the event log is empty'
      : `they were built from another event log (its first event was ${builtFrom}, this one's is ${first})`;
  const head = await eventStore.headPosition();
  let positions: readonly (Position | undefined)[];
  try {
    positions = await checkpoints(store);
  } catch (error) {
    return `a checkpoint cannot be read: ${(error as Error).message}`;
  }
  const ahead = positions.find(
    (position) => position !== undefined && (head === undefined || position > head),
  );
  if (ahead !== undefined)
    return `a checkpoint (${ahead}) is ahead of the event log's head (${head ?? 'empty'}): the log is older than the read models`;
  return undefined;
};

/** The log's first event id; null when the log is empty, undefined when it cannot be read. */
const firstEventId = async (eventStore: ReadModelsFileOptions['eventStore']) => {
  try {
    return (await eventStore.readAll({ maxCount: 1 }))[0]?.metadata.eventId ?? null;
  } catch {
    return undefined; // a damaged first event: the checkpoint check still applies
  }
};

const siblings = (file: string) => [file, `${file}-wal`, `${file}-shm`];

const removeFiles = (file: string) => {
  for (const each of siblings(file)) rmSync(each, { force: true });
};
