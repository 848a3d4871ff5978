import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { basename } from 'node:path';

/**
 * How the embedded store knows it has history: `DATA_DIR/eventfold.json`, a small file next to the
 * event log that names the store (its id) and the last position it is known to have reached. At
 * start-up the log must be that store and reach at least that position; a log that is missing,
 * empty, truncated, replaced by another or rolled back to an older copy is refused instead of being
 * taken for a new store with no history. Deleting the marker is how an operator says "yes, start
 * from what is there" after a deliberate reset (a restored backup, starting over).
 *
 * Cost: the marker is rewritten after appends at most once per `intervalMs` (default 1 s), off the
 * append path, and on close. So it lags the log by up to that much, which is the safe direction: a
 * marker can say less than the log holds, never more, as long as appends are durable when
 * acknowledged (SQLITE_SYNCHRONOUS=full). With `normal`, a power cut can lose the last acknowledged
 * appends while the marker survives them; start-up then stops and says so, which is the point.
 *
 * Each write is atomic: a temporary file, fsynced, renamed over the marker. A crash leaves the old
 * marker or the new one, never a torn one.
 */
export const MARKER_FILE = 'eventfold.json';

export type Marker = {
  format: 1;
  /** The id stored inside the event log (its `store` table). */
  storeId: string;
  /** The event log's file name, in the same directory. */
  eventsFile: string;
  /** The log reached at least this position (decimal); "0": it had no events. */
  lastPosition: string;
  updatedAt: string;
  about: string;
};

const ABOUT =
  'Written by eventfold. The event log named here held at least lastPosition events when this was ' +
  'written; eventfold refuses to start on a log that holds fewer, or on another log. After a ' +
  'deliberate reset (a restored backup, starting over), delete this file.';

export class MarkerUnreadableError extends Error {
  override readonly name = 'MarkerUnreadableError';
}

/** The marker, or undefined when there is none. Throws MarkerUnreadableError when it cannot be trusted. */
export const readMarker = (file: string): Marker | undefined => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MarkerUnreadableError(`${file} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  try {
    const marker = JSON.parse(text) as Partial<Marker>;
    if (
      marker.format === 1 &&
      typeof marker.storeId === 'string' &&
      typeof marker.eventsFile === 'string' &&
      typeof marker.lastPosition === 'string' &&
      /^(0|[1-9][0-9]*)$/.test(marker.lastPosition)
    )
      return marker as Marker;
  } catch {
    // reported below
  }
  throw new MarkerUnreadableError(
    `${file} is not a marker eventfold can read. If you changed it or restored it by hand, delete it: ` +
      'eventfold then starts from the event log as it is, and writes a new one.',
  );
};

const markerText = (storeId: string, eventsFile: string, lastPosition: bigint) =>
  `${JSON.stringify(
    {
      format: 1,
      storeId,
      eventsFile: basename(eventsFile),
      lastPosition: lastPosition.toString(10),
      updatedAt: new Date().toISOString(),
      about: ABOUT,
    } satisfies Marker,
    null,
    2,
  )}\n`;

export const writeMarkerSync = (file: string, storeId: string, eventsFile: string, lastPosition: bigint) => {
  const temporary = `${file}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, markerText(storeId, eventsFile, lastPosition));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
};

const writeMarker = async (file: string, storeId: string, eventsFile: string, lastPosition: bigint) => {
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(markerText(storeId, eventsFile, lastPosition));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
};

/**
 * Keeps the marker up with the log: `advanced(position)` after each commit; the marker follows at
 * most once per `intervalMs`, one write at a time. `close()` writes the last position and stops.
 * A write that fails is reported (onError) and tried again with the next append.
 */
export const markerKeeper = ({
  file,
  storeId,
  eventsFile,
  written,
  intervalMs = 1000,
  onError,
}: {
  file: string;
  storeId: string;
  eventsFile: string;
  /** The position the marker holds now. */
  written: bigint;
  intervalMs?: number;
  onError?: (error: unknown) => void;
}) => {
  let latest = written;
  let lastWriteAt = Date.now();
  let writing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let failing = false;

  const write = () => {
    timer = undefined;
    if (closed || writing || latest <= written) return;
    const position = latest;
    lastWriteAt = Date.now();
    writing = writeMarker(file, storeId, eventsFile, position)
      .then(
        () => {
          written = position;
          failing = false;
        },
        (error: unknown) => {
          if (!failing) onError?.(error);
          failing = true;
        },
      )
      .finally(() => {
        writing = undefined;
        if (latest > written) schedule();
      });
  };

  const schedule = () => {
    if (closed || timer || writing) return;
    timer = setTimeout(write, Math.max(0, lastWriteAt + intervalMs - Date.now()));
    timer.unref();
  };

  return {
    advanced(position: bigint) {
      if (position > latest) latest = position;
      schedule();
    },
    /** The position the marker on disk holds. */
    get written() {
      return written;
    },
    /** Failing to write (a full disk, a read-only folder): readiness says so. */
    get failing() {
      return failing;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await writing;
      if (latest > written) {
        writeMarkerSync(file, storeId, eventsFile, latest);
        written = latest;
      }
    },
  };
};

export type MarkerKeeper = ReturnType<typeof markerKeeper>;
