import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventStore, EVENTS_FILE } from './create-event-store.js';
import { DataDirLockedError } from './data-dir-lock.js';
import type { EventData } from './event-store.js';
import { EventStoreStartError } from './sqlite-start-checks.js';
import { MARKER_FILE, readMarker } from './store-marker.js';

const dir = mkdtempSync(join(tmpdir(), 'eventfold-create-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
const newDataDir = () => join(dir, `data-${++count}`);

const event = (data: unknown = { at: Date.now() }): EventData => ({
  type: 'Noted',
  data,
  metadata: {
    eventId: randomUUID(),
    correlationId: randomUUID(),
    causationId: randomUUID(),
    occurredAt: new Date().toISOString(),
    schemaVersion: 1,
  },
});

const owner = (DATA_DIR: string) => createEventStore({ DATA_DIR }, { exclusive: true });

/** A DATA_DIR whose store held `events` events (in streams of 10), closed. */
const withHistory = async (events: number, dataDir = newDataDir(), pad = 0) => {
  const store = await owner(dataDir);
  for (let i = 0; i < events; i++)
    await store.append(`s-${Math.floor(i / 10)}`, [event({ i, pad: 'x'.repeat(pad) })], {
      expectedRevision: 'any',
    });
  await store.close();
  return dataDir;
};

const refusal = async (dataDir: string) => {
  const error = await owner(dataDir).then(
    async (store) => {
      await store.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error, 'start-up should have been refused').toBeInstanceOf(EventStoreStartError);
  return (error as Error).message;
};

const removeLog = (dataDir: string) => {
  for (const suffix of ['', '-wal', '-shm'])
    rmSync(join(dataDir, `${EVENTS_FILE}${suffix}`), { force: true });
};

describe('createEventStore', () => {
  it('without EVENTSTORE_URL, keeps events in DATA_DIR/events.sqlite', async () => {
    const dataDir = join(dir, 'data');
    const store = await createEventStore({ DATA_DIR: dataDir });
    const metadata = {
      eventId: randomUUID(),
      correlationId: randomUUID(),
      causationId: randomUUID(),
      occurredAt: new Date().toISOString(),
      schemaVersion: 1,
    };
    await store.append('a', [{ type: 'Opened', data: {}, metadata }], { expectedRevision: 'no_stream' });
    await store.close();
    expect(existsSync(join(dataDir, 'events.sqlite'))).toBe(true);
    const reopened = await createEventStore({ DATA_DIR: dataDir, SQLITE_SYNCHRONOUS: 'normal' });
    expect((await reopened.readStream('a')).map((e) => e.metadata)).toEqual([metadata]);
    await reopened.close();
  });

  it('with EVENTSTORE_URL, uses EventStoreDB and leaves DATA_DIR alone, even as the writer', async () => {
    const dataDir = join(dir, 'unused');
    for (const exclusive of [false, true]) {
      const store = await createEventStore(
        { EVENTSTORE_URL: 'esdb://localhost:1?tls=false', DATA_DIR: dataDir },
        { exclusive },
      );
      expect(existsSync(dataDir)).toBe(false);
      await store.close();
    }
  });
});

describe('the embedded store, opened by its writer', () => {
  it('takes DATA_DIR for itself: a second writer is refused, a reader is not, and closing frees it', async () => {
    const dataDir = newDataDir();
    const first = await owner(dataDir);
    await expect(owner(dataDir)).rejects.toBeInstanceOf(DataDirLockedError);
    const reader = await createEventStore({ DATA_DIR: dataDir });
    await first.append('a', [event()], { expectedRevision: 'no_stream' });
    expect(await reader.readStream('a')).toHaveLength(1);
    await reader.close();
    await first.close();
    const second = await owner(dataDir);
    expect(await second.readStream('a')).toHaveLength(1);
    await second.close();
  });

  it('a first start on an empty DATA_DIR works, and leaves a marker naming the store', async () => {
    const dataDir = newDataDir();
    const store = await owner(dataDir);
    expect(await store.headPosition()).toBeUndefined();
    await store.checkWrites?.();
    await store.close();
    expect(readMarker(join(dataDir, MARKER_FILE))).toMatchObject({
      lastPosition: '0',
      eventsFile: EVENTS_FILE,
    });
  });

  it('the marker follows the log: on close, and within a second while it runs (not on every append)', async () => {
    const dataDir = newDataDir();
    const store = await owner(dataDir);
    const marker = () => readMarker(join(dataDir, MARKER_FILE))?.lastPosition;
    const { position } = await store.append('a', [event(), event()], { expectedRevision: 'no_stream' });
    const deadline = Date.now() + 5000;
    while (marker() !== String(position) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(marker()).toBe(String(position));
    const last = await store.append('a', [event()], { expectedRevision: 1 });
    await store.close();
    expect(marker()).toBe(String(last.position));
  });

  it('refuses a log truncated to zero bytes where history was expected, and says how to override', async () => {
    const dataDir = await withHistory(5);
    truncateSync(join(dataDir, EVENTS_FILE), 0);
    const message = await refusal(dataDir);
    expect(message).toContain(join(dataDir, EVENTS_FILE));
    expect(message).toContain('empty (0 bytes)');
    expect(message).toContain('at least 5 events');
    expect(message).toContain(`delete ${join(dataDir, MARKER_FILE)}`);
    // The file was left as it was: nothing was created over it.
    expect(statSync(join(dataDir, EVENTS_FILE)).size).toBe(0);

    // The operator's override after a deliberate reset: delete the marker. It starts empty, as asked.
    rmSync(join(dataDir, MARKER_FILE));
    const store = await owner(dataDir);
    expect(await store.headPosition()).toBeUndefined();
    await store.close();
  });

  it('refuses a deleted log, and does not create a new one', async () => {
    const dataDir = await withHistory(3);
    removeLog(dataDir);
    expect(await refusal(dataDir)).toMatch(
      /events\.sqlite is missing, but .*eventfold\.json says it held at least 3 events/,
    );
    expect(existsSync(join(dataDir, EVENTS_FILE))).toBe(false);
  });

  it('refuses a log that holds fewer events than the marker says (an older copy put back)', async () => {
    const dataDir = await withHistory(4);
    copyFileSync(join(dataDir, EVENTS_FILE), join(dir, 'older.sqlite'));
    await withHistory(6, dataDir);
    removeLog(dataDir);
    copyFileSync(join(dir, 'older.sqlite'), join(dataDir, EVENTS_FILE));
    expect(await refusal(dataDir)).toMatch(
      /holds events up to position 4 only, but .* at least 10 events: history was lost/,
    );
  });

  it("refuses another store's log in its place", async () => {
    const dataDir = await withHistory(2);
    const other = await withHistory(5);
    removeLog(dataDir);
    copyFileSync(join(other, EVENTS_FILE), join(dataDir, EVENTS_FILE));
    expect(await refusal(dataDir)).toMatch(
      /is another store \(id [0-9a-f-]+\) than the one this DATA_DIR had/,
    );
  });

  it('refuses a marker it cannot read, and says to delete it', async () => {
    const dataDir = await withHistory(1);
    writeFileSync(join(dataDir, MARKER_FILE), '{"format": 1, "lastPos');
    expect(await refusal(dataDir)).toMatch(/eventfold\.json is not a marker eventfold can read.*delete it/);
  });

  it('adopts a log from before markers: writes a marker and starts', async () => {
    const dataDir = await withHistory(3);
    rmSync(join(dataDir, MARKER_FILE));
    const store = await owner(dataDir);
    expect(await store.readAll()).toHaveLength(3);
    await store.close();
    expect(readMarker(join(dataDir, MARKER_FILE))?.lastPosition).toBe('3');
  });

  it('refuses a file with 64 KB of garbage in the middle, naming what SQLite found', async () => {
    const dataDir = await withHistory(600, newDataDir(), 500);
    const file = join(dataDir, EVENTS_FILE);
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(256 * 1024);
    const fd = openSync(file, 'r+');
    writeSync(fd, randomBytes(64 * 1024), 0, 64 * 1024, Math.floor(size / 2 / 4096) * 4096);
    closeSync(fd);
    const message = await refusal(dataDir);
    expect(message).toContain(`the event log ${file} is damaged`);
    expect(message).toMatch(/quick_check reports \S|malformed|SQLITE_CORRUPT/);
  });

  // A read-only file means nothing to root: as root, the store is opened by a child process running
  // as `nobody`, on files that root owns.
  const asNobody = process.getuid?.() === 0;
  if (asNobody) chmodSync(dir, 0o755); // mkdtemp makes it 0700
  const openElsewhere = (dataDir: string): Record<string, unknown> => {
    const fixture = fileURLToPath(new URL('./testing/open-embedded-store.fixture.ts', import.meta.url));
    const result = spawnSync(process.execPath, ['--import', 'tsx', fixture, dataDir], {
      encoding: 'utf8',
      ...(asNobody && { uid: 65534, gid: 65534 }),
    });
    expect(result.status, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };
  /** A DATA_DIR with history whose log has `mode`; the other user owns the rest (and the log if `ownLog`). */
  const prepare = async (mode: number, { ownLog = false } = {}) => {
    const dataDir = await withHistory(2);
    if (asNobody)
      for (const path of [
        dataDir,
        ...[MARKER_FILE, 'lock.sqlite', 'lock.holder.json'].map((n) => join(dataDir, n)),
      ])
        chownSync(path, 65534, 65534);
    if (asNobody && ownLog) chownSync(join(dataDir, EVENTS_FILE), 65534, 65534);
    chmodSync(join(dataDir, EVENTS_FILE), mode);
    return dataDir;
  };

  it('refuses a read-only log at start-up instead of failing every append', async () => {
    expect(openElsewhere(await prepare(0o444))).toEqual({
      refused: {
        name: 'EventStoreStartError',
        message: expect.stringMatching(
          /events\.sqlite cannot be written: attempt to write a readonly database/,
        ),
      },
    });
  });

  it('refuses an unreadable log, saying so', async () => {
    expect(openElsewhere(await prepare(0o000))).toEqual({
      refused: {
        name: 'EventStoreStartError',
        message: expect.stringMatching(/events\.sqlite cannot be opened: unable to open database file/),
      },
    });
  });

  it('refuses a DATA_DIR it may not write in, saying so', async () => {
    const dataDir = newDataDir();
    mkdirSync(dataDir, { mode: 0o755 });
    if (!asNobody) chmodSync(dataDir, 0o555);
    expect(openElsewhere(dataDir)).toEqual({
      refused: {
        name: 'Error',
        message: expect.stringMatching(
          /^cannot take DATA_DIR .* \(its lock file lock\.sqlite\): unable to open database file/,
        ),
      },
    });
  });

  it('the same user, with a writable log, starts and writes (the two refusals above are about the file)', async () => {
    expect(openElsewhere(await prepare(0o644, { ownLog: true }))).toEqual({
      opened: true,
      writable: true,
      appended: true,
    });
  });
});
