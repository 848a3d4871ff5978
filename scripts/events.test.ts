import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventStore } from '../infra/event-store/create-event-store.js';
import type { EventData, EventStore } from '../infra/event-store/event-store.js';
import { createEventStoreDbEventStore } from '../infra/event-store/eventstoredb-event-store.js';
import { startEsdbTestServer } from '../infra/event-store/testing/esdb-test-server/index.js';
import { tamperWithEventsFile } from '../infra/event-store/testing/tamper.js';

const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'eventfold-events-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
const newDataDir = () => join(dir, `data-${++count}`);

/** `npm run events -- <args>`, as an operator runs it. */
const events = async (args: string[], env: Record<string, string>) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/events.ts', ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number];
  return { code, stdout, stderr };
};

const event = (data: unknown): EventData => ({
  type: 'Noted',
  data,
  metadata: {
    eventId: randomUUID(),
    correlationId: 'c',
    causationId: 'c',
    occurredAt: new Date().toISOString(),
    schemaVersion: 1,
  },
});

/** Three streams of four events (amounts 9001..), positions 1..12 in turn a, b, c, a, b, c... */
const fill = async (store: EventStore) => {
  for (let i = 0; i < 12; i++)
    await store.append(`note-${'abc'[i % 3]}`, [event({ amount: 9001 + i })], { expectedRevision: 'any' });
};

describe('npm run events -- verify', () => {
  it('says nothing is damaged in a sound store (exit 0), and that there is nothing to verify in an empty DATA_DIR', async () => {
    const dataDir = newDataDir();
    expect(await events(['verify'], { DATA_DIR: dataDir })).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('no event log here: nothing to verify'),
    });
    const store = await createEventStore({ DATA_DIR: dataDir }, { exclusive: true });
    await fill(store);
    await store.close();
    const { code, stdout } = await events(['verify'], { DATA_DIR: dataDir });
    expect(stdout).toContain('SQLite integrity_check: ok');
    expect(stdout).toContain('history marker: 12 events there, at least 12 expected');
    expect(stdout).toMatch(/12 events in 3 streams read and checked in [\d.]+ s, up to position 12/);
    expect(stdout).toContain('nothing damaged');
    expect(code).toBe(0);
  });

  it('lists every damaged event and every missing one of an embedded store, and exits 1; the app may run meanwhile', async () => {
    const dataDir = newDataDir();
    const store = await createEventStore({ DATA_DIR: dataDir }, { exclusive: true });
    await fill(store);
    const file = join(dataDir, 'events.sqlite');
    tamperWithEventsFile(file, `UPDATE events SET data = replace(data, '9002', '9092') WHERE position = 2`);
    tamperWithEventsFile(file, `UPDATE events SET metadata = '{"eventId": nul' WHERE position = 9`);
    tamperWithEventsFile(file, 'DELETE FROM events WHERE position = 7');

    const { code, stdout } = await events(['verify'], { DATA_DIR: dataDir });
    expect(stdout).toContain('9 events in 3 streams read and checked'); // 12, less 2 damaged and 1 deleted
    expect(stdout).toContain('3 problem(s):');
    expect(stdout).toContain(
      'damaged: position 2, stream note-b, revision 0 (Noted): its checksum does not match its content',
    );
    expect(stdout).toContain('damaged: position 9, stream note-c, revision 2 (Noted)');
    expect(stdout).toContain('missing: stream note-a goes from revision 1 to 3 (position 10)');
    expect(code).toBe(1);
    await store.close();
  });

  it('reports a damaged file as a whole: garbage over its pages (integrity_check), or truncated where the marker expects history', async () => {
    const dataDir = newDataDir();
    const store = await createEventStore({ DATA_DIR: dataDir }, { exclusive: true });
    for (let i = 0; i < 300; i++)
      await store.append(`note-${i % 5}`, [event({ i, text: 'x'.repeat(500) })], { expectedRevision: 'any' });
    await store.close();
    const file = join(dataDir, 'events.sqlite');
    const fd = openSync(file, 'r+');
    writeSync(fd, randomBytes(16 * 1024), 0, 16 * 1024, Math.floor(statSync(file).size / 2 / 4096) * 4096);
    closeSync(fd);
    const garbage = await events(['verify'], { DATA_DIR: dataDir });
    // SQLite's own words: what integrity_check lists, or the error it stops with.
    expect(garbage.stdout).toMatch(
      /SQLite integrity_check: \S|cannot be read: database disk image is malformed/,
    );
    expect(garbage.code).toBe(1);

    truncateSync(file, 0);
    const truncated = await events(['verify'], { DATA_DIR: dataDir });
    expect(truncated.stdout).toContain(
      `${file} is empty (0 bytes), but ${join(dataDir, 'eventfold.json')} says it held at least 300 events`,
    );
    expect(truncated.code).toBe(1);
  });

  it('checks an EventStoreDB with EVENTSTORE_URL (here the wire-level test server)', async () => {
    const server = await startEsdbTestServer();
    try {
      const store = createEventStoreDbEventStore(server.url);
      await fill(store);
      await store.close();
      expect(await events(['verify'], { EVENTSTORE_URL: server.url })).toMatchObject({
        code: 0,
        stdout: expect.stringContaining('12 events in 3 streams read and checked'),
      });
      server.faults.alterEventData('note-c', 1, () => ({ amount: 1 }));
      const { code, stdout } = await events(['verify'], { EVENTSTORE_URL: server.url });
      expect(stdout).toMatch(
        /damaged: position \d+, stream note-c, revision 1 \(Noted\): its checksum does not match/,
      );
      expect(code).toBe(1);
    } finally {
      await server.stop();
    }
  });

  it('answers an unknown command with the usage and exit code 2', async () => {
    const { code, stderr } = await events(['frobnicate'], {});
    expect(code).toBe(2);
    expect(stderr).toContain('usage: npm run events -- <command>');
    expect(stderr).toContain('verify');
  });
});
