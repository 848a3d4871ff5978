import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '../infra/event-store/sqlite-event-store.js';
import { tamperWithEventsFile } from '../infra/event-store/testing/tamper.js';
import { type AppProcess, startAppProcess } from './testing/app-process.js';

/**
 * Storage that refuses to lose data quietly, as an operator meets it: the app as main.ts runs it
 * (runApp), in child processes on a DATA_DIR, then the faults of issue 10 done to that folder by
 * hand. With the engines' fixture module (`node --import tsx app/testing/fixture-main.ts`: a
 * counter that refuses to go below zero), so that it needs no example.
 */
const base = mkdtempSync(join(tmpdir(), 'eventfold-storage-'));
chmodSync(base, 0o755); // readable for the test that runs the app as another user
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(base, { recursive: true, force: true });
});
let dirs = 0;
const newDataDir = () => join(base, `data-${++dirs}`);

type Started = AppProcess;

/** Starts the app; resolves once it is ready or has exited (then `ready` is false). */
const startApp = (dataDir: string, { uid }: { uid?: number } = {}) =>
  startAppProcess({
    env: { DATA_DIR: dataDir, LOG_LEVEL: 'info', ROLES: 'write,read,projector' },
    ...(uid !== undefined && { uid }),
    track: (child) => children.push(child),
  });

/** Starts the app and expects it to refuse: exit code 1 and the reason in its fatal log line. */
const expectRefusal = async (dataDir: string, options: { uid?: number } = {}) => {
  const app = await startApp(dataDir, options);
  if (app.ready) {
    app.child.kill('SIGKILL');
    throw new Error('the app started where it should have refused to');
  }
  expect(app.code).toBe(1);
  const fatal = app.logs.find((line) => line.msg === 'could not start');
  expect(fatal, `no 'could not start' log line; stderr:\n${app.stderr()}`).toBeDefined();
  return fatal?.err?.message ?? '';
};

const stop = async (app: Started) => {
  app.child.kill('SIGTERM');
  expect(await app.exited).toBe(0);
};

const post = async (url: string, body: object) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const readyStarted = async (dataDir: string) => {
  const app = await startApp(dataDir);
  if (!app.ready) throw new Error(`the app did not start:\n${app.stderr()}`);
  return app;
};

describe('storage safety, against the real app', () => {
  it('a second process on the same DATA_DIR refuses to start; once the first is killed (kill -9), a new one starts', async () => {
    const dataDir = newDataDir();
    const first = await readyStarted(dataDir);
    expect((await post(`${first.url}/counters`, { counterId: 'ada', owner: 'Ada' })).status).toBe(201);

    const message = await expectRefusal(dataDir);
    expect(message).toContain(
      `DATA_DIR ${dataDir} is in use by another eventfold process (pid ${first.child.pid}`,
    );
    // The refused process changed nothing: the first still serves.
    expect((await post(`${first.url}/counters/ada/increments`, { amount: 5 })).status).toBe(200);

    first.child.kill('SIGKILL');
    await first.exited;
    const third = await readyStarted(dataDir);
    expect((await post(`${third.url}/counters/ada/increments`, { amount: 5 })).body).toMatchObject({
      revision: 2,
    });
    await stop(third);
  });

  it('an events file truncated to zero bytes stops start-up instead of starting empty', async () => {
    const dataDir = newDataDir();
    const app = await readyStarted(dataDir);
    expect((await post(`${app.url}/counters`, { counterId: 'ada', owner: 'Ada' })).status).toBe(201);
    await stop(app);

    truncateSync(join(dataDir, 'events.sqlite'), 0);
    const message = await expectRefusal(dataDir);
    expect(message).toContain(`the event log ${join(dataDir, 'events.sqlite')} is empty (0 bytes)`);
    expect(message).toContain(`delete ${join(dataDir, 'eventfold.json')}`);
  });

  it('one changed digit of a total lets nothing below zero through: 500 naming the stream, and readiness lists it', async () => {
    const dataDir = newDataDir();
    const app = await readyStarted(dataDir);
    expect((await post(`${app.url}/counters`, { counterId: 'ada', owner: 'Ada' })).status).toBe(201);
    expect((await post(`${app.url}/counters/ada/increments`, { amount: 150_000 })).status).toBe(200);
    expect((await post(`${app.url}/counters/ada/decrements`, { amount: 50_000 })).status).toBe(200);
    await stop(app);

    expect(
      tamperWithEventsFile(
        join(dataDir, 'events.sqlite'),
        `UPDATE events SET data = replace(data, '"total":100000', '"total":900000')
         WHERE type = 'Decremented'`,
      ),
    ).toBe(1);

    const again = await readyStarted(dataDir);
    const belowZero = await post(`${again.url}/counters/ada/decrements`, { amount: 500_000 });
    expect(belowZero).toMatchObject({
      status: 500,
      body: {
        type: 'urn:eventfold:problem:stored-event-damaged',
        detail: expect.stringContaining('stream counter-ada: the stored event at revision 2 is damaged'),
      },
    });
    const ready = await fetch(`${again.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'degraded',
      checks: {
        eventStore: {
          status: 'degraded',
          detail: { damagedEvents: [{ streamId: 'counter-ada', revision: 2 }] },
        },
      },
    });
    await stop(again);
  });

  it('64 KB of garbage in the middle of the events file stops start-up, naming what SQLite found', async () => {
    const dataDir = newDataDir();
    // A log of a few hundred kilobytes, written as the app would, then adopted by the app.
    const store = createSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
    for (let i = 0; i < 600; i++)
      await store.append(
        `note-${i % 20}`,
        [
          {
            type: 'Noted',
            data: { i, text: 'x'.repeat(500) },
            metadata: {
              eventId: randomUUID(),
              correlationId: 'c',
              causationId: 'c',
              occurredAt: new Date().toISOString(),
              schemaVersion: 1,
            },
          },
        ],
        { expectedRevision: 'any' },
      );
    await store.close();
    await stop(await readyStarted(dataDir));

    const file = join(dataDir, 'events.sqlite');
    const middle = Math.floor(statSync(file).size / 2 / 4096) * 4096;
    const fd = openSync(file, 'r+');
    writeSync(fd, randomBytes(64 * 1024), 0, 64 * 1024, middle);
    closeSync(fd);
    const message = await expectRefusal(dataDir);
    expect(message).toMatch(/is damaged: (SQLite's quick_check reports \S|.*malformed)/);
  });

  // A read-only file means nothing to root: as root, the app runs as `nobody`, on a log root owns.
  const asNobody = process.getuid?.() === 0;
  it('a read-only events file stops start-up instead of answering every write with 500', async () => {
    const dataDir = newDataDir();
    const app = await readyStarted(dataDir);
    expect((await post(`${app.url}/counters`, { counterId: 'ada', owner: 'Ada' })).status).toBe(201);
    await stop(app);
    if (asNobody) {
      chownSync(dataDir, 65534, 65534);
      for (const name of readdirSync(dataDir))
        if (name !== 'events.sqlite') chownSync(join(dataDir, name), 65534, 65534);
    }
    chmodSync(join(dataDir, 'events.sqlite'), 0o444);
    const message = await expectRefusal(dataDir, asNobody ? { uid: 65534 } : {});
    expect(message).toMatch(/events\.sqlite cannot be written: attempt to write a readonly database/);
  });
});
