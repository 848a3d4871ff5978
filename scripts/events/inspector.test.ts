import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jobs } from '../../commands/process-manager/testing/jobs.js';
import { createEventStore } from '../../infra/event-store/create-event-store.js';
import { type EventStore, positionToJson, type RecordedEvent } from '../../infra/event-store/event-store.js';
import { createEventStoreDbEventStore } from '../../infra/event-store/eventstoredb-event-store.js';
import { startEsdbTestServer } from '../../infra/event-store/testing/esdb-test-server/index.js';
import { runEvents, startEvents } from './testing/events-cli.js';

/**
 * `npm run events -- stream | trace | tail`, run as an operator runs them, on a log written by the
 * real command pipeline and a real process manager: the engines' fixture job (a job adds its
 * amount to a tally under a step key, then finishes; commands/process-manager/testing/), so these
 * tests hold without the example. The transfer's trace is in commands/transfers/transfer-trace.test.ts.
 */
const dir = mkdtempSync(join(tmpdir(), 'eventfold-inspector-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
const newDataDir = () => join(dir, `data-${++count}`);

/** A job run to its end under correlation id `req-1`, among events of other correlations. */
const runJob = async (store: EventStore) => {
  const j = jobs(store);
  const process = j.process();
  try {
    await j.unrelated('y');
    await j.start('j1', 'x', 5, { correlationId: 'req-1' });
    expect(await j.settled('j1')).toMatchObject({ status: 'finished' });
    await j.unrelated('x');
  } finally {
    await process.stop();
    j.outcomes.stop();
  }
  const all = await store.readAll();
  return { all, traced: all.filter((e) => e.metadata.correlationId === 'req-1') };
};

/** [depth, type, position] of each event drawn in a trace's tree. */
const treeOf = (stdout: string) =>
  stdout.split('\n').flatMap((line) => {
    const drawn = /^([ │]*)[└├]─ @(\d+) \S+ #\d+ (\S+) v1 /.exec(line);
    return drawn ? [[(drawn[1] as string).length / 3, drawn[3], drawn[2]] as const] : [];
  });

/**
 * The key=value fields printed on the line after the one that starts with (or, in a tree, holds)
 * `headline`, with strings as they were printed.
 */
const fieldsAfter = (stdout: string, headline: string): Record<string, string> => {
  const lines = stdout.split('\n');
  const at = lines.findIndex((line) => line.includes(headline));
  expect(at, `no ${headline} in:\n${stdout}`).toBeGreaterThanOrEqual(0);
  const fields = (lines[at + 1] ?? '').replace(/^[ │]+/, '').split('  ');
  return Object.fromEntries(
    fields.map((field) => [field.slice(0, field.indexOf('=')), field.slice(field.indexOf('=') + 1)]),
  );
};

/** The metadata a person is shown: every field but those in the headline (and those `omit` names). */
const shownMetadata = (event: RecordedEvent, omit: readonly string[] = []) =>
  Object.fromEntries(
    Object.entries(event.metadata).filter(([key]) => !['occurredAt', 'schemaVersion', ...omit].includes(key)),
  );

const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));

/** What --json prints of an event: the event as stored, its position a decimal string. */
const asJson = (event: RecordedEvent) => ({ ...event, position: positionToJson(event.position) });

/** `stream` and `trace` on a log in `env`; what they print checked against what the log holds. */
const checkStreamAndTrace = async (store: EventStore, env: Record<string, string>) => {
  const { all, traced } = await runJob(store);
  expect(traced.map((e) => e.type)).toEqual(['JobStarted', 'Added', 'JobFinished']);
  const [started, added, finished] = traced as [RecordedEvent, RecordedEvent, RecordedEvent];

  const trace = await runEvents(['trace', 'req-1'], env);
  expect(trace.code).toBe(0);
  const lines = trace.stdout.split('\n');
  expect(lines[0]).toMatch(/^correlation req-1: 3 event\(s\) in 2 stream\(s\) of /);
  expect(lines[1]).toBe('request req-1');
  // The request started the job; the tally's Added was caused by JobStarted, JobFinished by Added.
  expect(treeOf(trace.stdout)).toEqual([
    [0, 'JobStarted', positionToJson(started.position)],
    [1, 'Added', positionToJson(added.position)],
    [2, 'JobFinished', positionToJson(finished.position)],
  ]);
  // Every metadata field but those the tree shows, whatever the pipeline adds (an actor, say).
  const addedFields = fieldsAfter(trace.stdout, `@${positionToJson(added.position)} `);
  expect(addedFields).toEqual(shownMetadata(added, ['correlationId', 'causationId']));
  expect(addedFields).toMatchObject({ eventId: added.metadata.eventId, idempotencyKey: 'job:j1:add' });
  expect(trace.stdout).toContain(`data ${JSON.stringify(added.data)}`);

  const json = await runEvents(['trace', 'req-1', '--json'], env);
  expect(jsonLines(json.stdout)).toEqual(traced.map(asJson));
  expect(json.code).toBe(0);

  const nobody = await runEvents(['trace', 'nobody'], env);
  expect(nobody).toMatchObject({
    code: 1,
    stdout: '',
    stderr: expect.stringContaining('no event has correlation id nobody'),
  });

  const stream = await runEvents(['stream', 'job-j1'], env);
  expect(stream.code).toBe(0);
  const jobEvents = all.filter((e) => e.streamId === 'job-j1');
  expect(stream.stdout).toContain('stream job-j1: 2 event(s) in ');
  for (const event of jobEvents) {
    const headline = `@${positionToJson(event.position)} job-j1 #${event.revision} ${event.type} v1 ${event.metadata.occurredAt}`;
    const fields = fieldsAfter(stream.stdout, headline);
    expect(fields).toEqual(shownMetadata(event));
    expect(fields).toMatchObject({ eventId: event.metadata.eventId, correlationId: 'req-1' });
    expect(stream.stdout).toContain(`${headline}\n`);
  }
  const streamJson = await runEvents(['stream', 'job-j1', '--json'], env);
  expect(jsonLines(streamJson.stdout)).toEqual(jobEvents.map(asJson));
};

describe('npm run events -- stream, trace (embedded store)', () => {
  it('traces a job across its streams as a tree of causes, and prints a stream as appended', async () => {
    const dataDir = newDataDir();
    // Written as the app writes it, the app still running while the commands read.
    const store = await createEventStore({ DATA_DIR: dataDir }, { exclusive: true });
    try {
      await checkStreamAndTrace(store, { DATA_DIR: dataDir });
    } finally {
      await store.close();
    }
  });

  it('shows every metadata field present, one it does not know of too; says when there is nothing to show', async () => {
    const dataDir = newDataDir();
    const store = await createEventStore({ DATA_DIR: dataDir }, { exclusive: true });
    const metadata = {
      eventId: randomUUID(),
      correlationId: 'req-2',
      causationId: 'req-2',
      origin: { kind: 'import', batch: 7 },
      occurredAt: '2025-03-04T05:06:07.000Z',
      schemaVersion: 2,
      note: 'two words',
    };
    await store.append('note-1', [{ type: 'Noted', data: { text: 'hi' }, metadata }], {
      expectedRevision: 'no_stream',
    });
    await store.close();
    const env = { DATA_DIR: dataDir };
    const { code, stdout } = await runEvents(['stream', 'note-1'], env);
    expect(stdout).toContain(
      `@1 note-1 #0 Noted v2 2025-03-04T05:06:07.000Z\n` +
        `    eventId=${metadata.eventId}  correlationId=req-2  causationId=req-2  origin={"kind":"import","batch":7}  note="two words"\n` +
        '    data {"text":"hi"}',
    );
    expect(code).toBe(0);
    expect(await runEvents(['trace', 'req-2'], env)).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('origin={"kind":"import","batch":7}'),
    });

    expect(await runEvents(['stream', 'note-2'], env)).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('stream note-2 has no events'),
    });
    const empty = newDataDir();
    mkdirSync(empty);
    expect(await runEvents(['stream', 'note-1'], { DATA_DIR: empty })).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`no event log at ${join(empty, 'events.sqlite')}`),
    });
    expect(await runEvents(['stream'], env)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('stream takes one stream id'),
    });
    expect(await runEvents(['tail', '--typo'], env)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/Unknown option '--typo'[\s\S]*usage: npm run events/),
    });
  });
});

const noted = (type: string, n: number) => ({
  type,
  data: { n },
  metadata: {
    eventId: randomUUID(),
    correlationId: `c-${n}`,
    causationId: `c-${n}`,
    occurredAt: new Date().toISOString(),
    schemaVersion: 1,
  },
});

/**
 * `tail` on a log in `env`: follows from the end by default, keeps its filters, prints what is
 * appended while it runs, and stops cleanly on `signal`.
 */
const checkTail = async (store: EventStore, env: Record<string, string>, signal: NodeJS.Signals) => {
  await store.append('note-a', [noted('Noted', 1)], { expectedRevision: 'any' });
  const tail = startEvents(['tail', '--type', 'Noted', '--type', 'Flagged', '--stream-prefix', 'note-'], env);
  const everything = startEvents(['tail', '--from-start', '--json'], env);
  await tail.waitFor(
    'stderr',
    /following \$all .* after position \d+, only type Noted or type Flagged or streams note-\*/,
  );
  await everything.waitFor('stderr', /following \$all .* from the start/);

  await store.append('note-a', [noted('Noted', 2)], { expectedRevision: 'any' });
  await store.append('note-b', [noted('Ignored', 3)], { expectedRevision: 'any' }); // not its type
  await store.append('other-a', [noted('Noted', 4)], { expectedRevision: 'any' }); // not its streams
  await store.append('note-b', [noted('Flagged', 5)], { expectedRevision: 'any' });
  await tail.waitFor('stdout', /Flagged/);
  await everything.waitFor('stdout', /"Flagged"/);

  tail.child.kill(signal);
  everything.child.kill(signal);
  const [followed, all] = await Promise.all([tail.exited, everything.exited]);
  expect(followed.code).toBe(0);
  expect(followed.stderr).toContain('stopped');
  const printed = [...followed.stdout.matchAll(/^@\d+ (\S+) #\d+ (\S+) v1 .*\n {4}.*\n {4}data (.*)$/gm)];
  // Not n = 1, appended before it started: it follows from the end.
  expect(printed.map((m) => [m[1], m[2], m[3]])).toEqual([
    ['note-a', 'Noted', '{"n":2}'],
    ['note-b', 'Flagged', '{"n":5}'],
  ]);
  expect(all.code).toBe(0);
  const read = jsonLines(all.stdout);
  // From the start: what was there before (a job, in one test) and all five, whatever their type.
  expect(read.slice(-5).map((e) => e.data.n)).toEqual([1, 2, 3, 4, 5]);
  expect(read).toEqual((await store.readAll()).map(asJson));
};

describe('npm run events -- tail', () => {
  it('follows the embedded store live, filtered, and stops on SIGINT or SIGTERM', async () => {
    const dataDir = newDataDir();
    const store = await createEventStore({ DATA_DIR: dataDir }, { exclusive: true });
    try {
      await checkTail(store, { DATA_DIR: dataDir }, 'SIGINT');
    } finally {
      await store.close();
    }
  });
});

describe('npm run events with EVENTSTORE_URL (the wire-level test server)', () => {
  it('stream and trace read EventStoreDB (trace by reading $all); tail follows it and stops on SIGTERM', async () => {
    const server = await startEsdbTestServer();
    const store = createEventStoreDbEventStore(server.url);
    try {
      await checkStreamAndTrace(store, { EVENTSTORE_URL: server.url });
      await checkTail(store, { EVENTSTORE_URL: server.url }, 'SIGTERM');
    } finally {
      await store.close();
      await server.stop();
    }
  });
});
