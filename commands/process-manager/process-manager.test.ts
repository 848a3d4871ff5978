import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { severable, withFaults } from '../../infra/event-store/testing/fault-injector.js';
import { createEmbeddedReadStore } from '../../infra/read-store/embedded-read-store.js';
import { checkpointStream } from './checkpoint-stream.js';
import { readStoreLease } from './lease.js';
import type { ProcessManager } from './process-manager.js';
import { addKey } from './testing/job-process.js';
import { jobs, silent } from './testing/jobs.js';

/**
 * The engine, driven by the fixture's job process (testing/): a job adds its amount to a tally
 * once, then finishes; a refused add or a passed deadline fails it.
 */
let store: EventStore;
let j: ReturnType<typeof jobs>;
const running: ProcessManager[] = [];

const start = (...args: Parameters<ReturnType<typeof jobs>['process']>) => {
  const process = j.process(...args);
  running.push(process);
  return process;
};

beforeEach(() => {
  store = createMemoryEventStore();
  j = jobs(store);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
  j.outcomes.stop();
});

describe('process manager', () => {
  it('drives a key to its outcome, one step under its step key, correlation and causation chained', async () => {
    start();
    await j.start('j1', 'x', 5, { correlationId: 'req-1' });
    expect(await j.settled('j1')).toMatchObject({ status: 'finished' });
    expect(await j.total('x')).toBe(5);
    const [started, finished] = await j.jobEvents('j1');
    const [added] = await j.tallyEvents('x');
    expect(added?.metadata.idempotencyKey).toBe('job:j1:add');
    for (const event of [started, added, finished]) expect(event?.metadata.correlationId).toBe('req-1');
    expect(added?.metadata.causationId).toBe(started?.metadata.eventId);
    expect(finished?.metadata.causationId).toBe(added?.metadata.eventId);
  });

  it('records a refused step as the decision says', async () => {
    await j.closeTally('x');
    start();
    await j.start('j1', 'x', 5);
    expect(await j.settled('j1')).toMatchObject({ status: 'failed', reason: 'tally_closed' });
  });

  it('drives many keys concurrently, each to its own outcome', async () => {
    start(store, { config: { concurrency: 3 } });
    await Promise.all(Array.from({ length: 20 }, (_, i) => j.start(`j${i}`, `t${i % 4}`, 1)));
    for (let i = 0; i < 20; i++) expect(await j.settled(`j${i}`)).toMatchObject({ status: 'finished' });
    const totals = await Promise.all([0, 1, 2, 3].map((t) => j.total(`t${t}`)));
    expect(totals).toEqual([5, 5, 5, 5]);
  });

  it('resubscribes after its subscription drops, and misses nothing', async () => {
    let drops = 0;
    start(withFaults(store, { subscription: (event) => event.type === 'JobStarted' && drops++ < 2 }));
    await j.start('j1', 'x', 5);
    await j.start('j2', 'x', 7);
    expect(await j.settled('j1')).toMatchObject({ status: 'finished' });
    expect(await j.settled('j2')).toMatchObject({ status: 'finished' });
    expect(drops).toBeGreaterThanOrEqual(2);
    expect(await j.total('x')).toBe(12);
  });

  describe('deadline', () => {
    it('wakes a key whose steps keep failing for its deadline, however long its backoff', async () => {
      const failing = withFaults(store, {
        append: (streamId) => (streamId === 'tally-x' ? 'fail' : undefined),
      });
      // Without the deadline the second retry would come at least 60 s after the first; the bound
      // below is far under that and far over the deadline, so a loaded machine cannot fail it.
      start(failing, { config: { retryBackoffMs: 120_000, retryMaxMs: 240_000 } });
      const began = Date.now();
      await j.start('j1', 'x', 5, { deadline: new Date(began + 100) });
      expect(await j.settled('j1', 15_000)).toMatchObject({ status: 'failed', reason: 'deadline_exceeded' });
      expect(Date.now() - began).toBeLessThan(15_000);
      expect(await j.total('x')).toBe(0);
    });

    it('judges the deadline with the injected clock, between steps', async () => {
      let clock = Date.now();
      let lost = false;
      // The add lands, its answer is lost, and the deadline passes meanwhile: found by its key, it counts.
      const faults = withFaults(store, {
        append: (streamId) => {
          if (streamId !== 'tally-x' || lost) return undefined;
          lost = true;
          clock += 3_600_000;
          return 'lose-ack';
        },
      });
      start(faults, { now: () => clock });
      await j.start('j1', 'x', 5, { deadline: new Date(clock + 60_000) });
      expect(await j.settled('j1')).toMatchObject({ status: 'finished' });
      expect(await j.total('x')).toBe(5);
    });
  });

  describe('exactly once', () => {
    it('repeats no step when every event is delivered a second time', async () => {
      start();
      await j.start('j1', 'x', 5);
      await j.start('j2', 'x', 7);
      await j.settled('j1');
      await j.settled('j2');
      const head = await store.headPosition();
      // A second process under another name has no checkpoint: it receives every event again.
      const again = start(store, { name: 'replay' });
      await expect.poll(() => (again.checkpoint() ?? 0n) >= (head ?? 0n)).toBe(true);
      await again.stop();
      const after = (await store.readAll({ after: head })).map((e) => e.streamId);
      expect(after.every((id) => id.startsWith('checkpoint-'))).toBe(true);
      expect(await j.total('x')).toBe(12);
    });

    it('finishes after a crash between a step and its record, taking the step once', async () => {
      const crashing = severable(
        withFaults(store, {
          append: (streamId) => {
            if (streamId === 'tally-x') crashing.sever();
            return undefined;
          },
        }),
      );
      const first = start(crashing.store);
      await j.start('j1', 'x', 5);
      await first.started;
      await expect.poll(async () => (await j.tallyEvents('x')).length).toBe(1);
      await first.stop();
      expect((await j.job('j1')).status).toBe('started');

      start();
      expect(await j.settled('j1')).toMatchObject({ status: 'finished' });
      expect((await j.tallyEvents('x')).map((e) => e.metadata.idempotencyKey)).toEqual([addKey('j1')]);
    });

    it('resumes from its saved checkpoint after a restart', async () => {
      const first = start();
      await j.start('j1', 'x', 5);
      await j.settled('j1');
      const [, finished] = await j.jobEvents('j1');
      // At or past it: the checkpoint also moves past the process's own CheckpointStored events.
      await expect.poll(() => first.checkpoint()).toBeGreaterThanOrEqual(finished?.position as bigint);
      await first.stop();

      const second = start();
      await second.started;
      expect(second.checkpoint()).toBe(finished?.position);
      await j.start('j2', 'x', 7);
      expect(await j.settled('j2')).toMatchObject({ status: 'finished' });
      expect(await j.total('x')).toBe(12);
    });
  });

  describe('checkpoint writes', () => {
    /** What the process stores, read back as a restarted process would. */
    const stored = () => checkpointStream(store, 'job-process').load();
    /** Events appended to `$all` while nothing happens but the process following the log. */
    const appendedWhileIdle = async (ms = 500) => {
      await sleep(50); // let the last step's checkpoint land
      const before = (await store.readAll()).length;
      await sleep(ms); // 50 checkpoint intervals in `fast`
      return (await store.readAll()).slice(before).map((e) => `${e.type} ${e.streamId}`);
    };

    it('an idle process appends nothing, before and after a restart, and still stores the checkpoint of each key it drove', async () => {
      const first = start();
      await first.started;
      await j.start('j1', 'x', 5);
      await j.settled('j1');
      await j.unrelated('y'); // after the job: positions the process only scans
      const j1 = (await j.jobEvents('j1')).at(-1)?.position as bigint;
      // Stored while the process runs, not only when it stops.
      await expect.poll(stored).toBeGreaterThanOrEqual(j1);
      expect(await appendedWhileIdle()).toEqual([]);

      await first.stop();
      const second = start();
      await second.started;
      expect(await appendedWhileIdle()).toEqual([]);

      await j.start('j2', 'x', 7);
      await j.settled('j2');
      const j2 = (await j.jobEvents('j2')).at(-1)?.position as bigint;
      await expect.poll(stored).toBeGreaterThanOrEqual(j2);
      expect(await appendedWhileIdle()).toEqual([]);
      await second.stop();
      // Nothing new to store when it stops either, and the next start resumes past both jobs.
      const third = start();
      await third.started;
      expect(third.checkpoint()).toBeGreaterThanOrEqual(j2);
      expect(await appendedWhileIdle()).toEqual([]);
      expect(await j.total('x')).toBe(12);
    });

    it('stores progress past events it only scans at most every scanCheckpointIntervalMs, never for its own checkpoints', async () => {
      const process = start(store, { config: { scanCheckpointIntervalMs: 100 } });
      await process.started;
      await j.unrelated('y');
      await j.unrelated('z');
      // No job at all: the scanned positions are stored once the interval has passed...
      const head = (await store.headPosition()) as bigint;
      await expect.poll(stored).toBeGreaterThanOrEqual(head);
      // ...and the checkpoint event that stored them does not call for another one.
      expect(await appendedWhileIdle(400)).toEqual([]);
    });
  });

  it('stops at once, even while it is still loading its checkpoint', async () => {
    await start().stop();
  });

  it('with a lease, runs on one instance at a time, and another takes over when it stops', async () => {
    const leases = createEmbeddedReadStore();
    const lease = (owner: string) =>
      readStoreLease(leases, { name: 'job-process', ttlMs: 300, logger: silent, owner });
    const first = start(store, { lease: lease('first') });
    await first.started;
    const second = start(store, { lease: lease('second') });
    let secondFollows = false;
    void second.started.then(() => {
      secondFollows = true;
    });
    await j.start('j1', 'x', 5);
    expect(await j.settled('j1')).toMatchObject({ status: 'finished' });
    expect(secondFollows).toBe(false);

    await first.stop();
    await second.started;
    expect(secondFollows).toBe(true);
    await j.start('j2', 'x', 7);
    expect(await j.settled('j2')).toMatchObject({ status: 'finished' });
    expect(await j.total('x')).toBe(12);
    expect(await j.tallyEvents('x')).toHaveLength(2);
  });
});
