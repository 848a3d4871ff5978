import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { checkpointStream } from '../commands/process-manager/checkpoint-stream.js';
import { createSqliteEventStore } from '../infra/event-store/sqlite-event-store.js';
import { freePort, startAppProcess } from './testing/app-process.js';

/**
 * The app as a deployment runs it (app/main.ts's runApp, here with the engines' fixture module:
 * `node --import tsx app/testing/fixture-main.ts`), stopped with SIGTERM while clients keep
 * sending commands, then started again on the same DATA_DIR:
 * - it exits 0, having finished what it had in hand;
 * - every command it acknowledged has its event in the store, at the position it answered with;
 * - the job process manager saved its checkpoint (kept in the event store), and it only moves on;
 * - the projections catch up to the state the events describe.
 * (The embedded read store lives in memory, so the restarted projectors rebuild it from the log:
 * catching up to the same state is the check. With MongoDB the stored checkpoints carry over.)
 */
const dir = mkdtempSync(join(tmpdir(), 'eventfold-sigterm-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const startApp = async (port: number) => {
  const app = await startAppProcess({
    port,
    env: { DATA_DIR: dir, LOG_LEVEL: 'info', ROLES: 'write,read,projector', SHUTDOWN_TIMEOUT_MS: '15000' },
    track: (child) => children.push(child),
  });
  if (!app.ready) throw new Error(`the app did not become ready:\n${app.stderr()}`);
  return { ...app, base: app.url };
};

const post = (base: string, path: string, body: object) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

type Ack = { id: string; revision: number; position: string };

describe('SIGTERM under load', () => {
  it('loses no acknowledged command, and the restarted system catches up to the same state', async () => {
    const port = await freePort();
    const first = await startApp(port);

    const counters = Array.from({ length: 8 }, (_, i) => `load-${i}`);
    const acks: Ack[] = [];
    for (const counterId of counters) {
      const response = await post(first.base, '/counters', { counterId, owner: 'Ada' });
      expect(response.status).toBe(201);
      acks.push((await response.json()) as Ack);
    }
    // A job for the process manager to drive, so that it has a checkpoint to save.
    expect(
      (await post(first.base, '/jobs', { jobId: 'load-job', tallyId: 'load-tally', amount: 1 })).status,
    ).toBe(202);

    // One client per counter, incrementing until the server stops answering (bounded all the same).
    let refused = 0;
    const clients = counters.map(async (counterId) => {
      for (let i = 0; i < 5_000; i++) {
        try {
          const response = await post(first.base, `/counters/${counterId}/increments`, { amount: 1 });
          if (response.status === 200) acks.push((await response.json()) as Ack);
          else {
            await response.body?.cancel();
            refused++; // 503 while closing: not acknowledged, so the client would retry it
          }
        } catch {
          return; // connection refused or reset: the server has stopped listening
        }
      }
    });

    while (acks.length < counters.length + 200) await sleep(10);
    first.child.kill('SIGTERM');
    const code = await first.exited;
    await Promise.all(clients);
    const warnings = first.logs.filter((line) => (line.level ?? 0) >= 40).map((line) => line.msg);
    expect(code, `exit code; warnings and errors logged: ${warnings.join('; ')}`).toBe(0);
    const messages = first.logs.map((line) => line.msg);
    expect(messages).toContain('shutting down');
    expect(messages.at(-1)).toBe('stopped');

    // Every acknowledged command's event is in the store, where the answer said it was; the
    // process manager saved a checkpoint within the log.
    const store = createSqliteEventStore({ file: join(dir, 'events.sqlite') });
    let stoppedAt: bigint | undefined;
    try {
      stoppedAt = await checkpointStream(store, 'job-process').load();
      expect(stoppedAt).toBeDefined();
      expect(stoppedAt as bigint).toBeLessThanOrEqual((await store.headPosition()) as bigint);
      for (const counterId of counters) {
        const stream = await store.readStream(`counter-${counterId}`);
        const byRevision = new Map(stream.map((event) => [event.revision, String(event.position)]));
        for (const ack of acks.filter((a) => a.id === counterId))
          expect(byRevision.get(ack.revision)).toBe(ack.position);
      }
    } finally {
      await store.close();
    }

    // Started again: the projections reach the state the log describes; the process manager goes
    // on from its checkpoint (it never moves back).
    const second = await startApp(port);
    try {
      const reopened = createSqliteEventStore({ file: join(dir, 'events.sqlite') });
      try {
        const head = String(await reopened.headPosition());
        for (const counterId of counters) {
          const stream = await reopened.readStream(`counter-${counterId}`);
          const increments = stream.filter((event) => event.type === 'Incremented').length;
          const response = await fetch(`${second.base}/counters/${counterId}`, {
            headers: { 'x-min-position': head },
          });
          expect(response.status).toBe(200);
          expect(await response.json()).toMatchObject({
            counterId,
            total: increments,
            revision: (stream.at(-1)?.revision as number) ?? -1,
          });
        }
      } finally {
        await reopened.close();
      }
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
    const final = createSqliteEventStore({ file: join(dir, 'events.sqlite') });
    try {
      expect((await checkpointStream(final, 'job-process').load()) as bigint).toBeGreaterThanOrEqual(
        stoppedAt as bigint,
      );
    } finally {
      await final.close();
    }
    // A report for whoever reads the test log: how much was in flight when the signal came.
    console.info(
      `SIGTERM under load: ${acks.length} acknowledged, ${refused} refused with 503 while closing`,
    );
  }, 120_000);
});
