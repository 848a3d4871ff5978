import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { checkpointStream } from '../commands/transfers/checkpoint-stream.js';
import { createSqliteEventStore } from '../infra/event-store/sqlite-event-store.js';

/**
 * `node --import tsx app/main.ts`, as a deployment runs it, stopped with SIGTERM while clients
 * keep sending commands, then started again on the same DATA_DIR:
 * - it exits 0, having finished what it had in hand;
 * - every command it acknowledged has its event in the store, at the position it answered with;
 * - the transfer process manager saved its checkpoint (kept in the event store), and it only moves on;
 * - the projections catch up to the state the events describe.
 * (The embedded read store lives in memory, so the restarted projectors rebuild it from the log:
 * catching up to the same state is the check. With MongoDB the stored checkpoints carry over.)
 */
const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'eventfold-sigterm-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const freePort = async () => {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
};

type LogLine = { msg?: string; level?: number };

const startApp = async (port: number) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dir,
      LOG_LEVEL: 'info',
      ROLES: 'write,read,projector',
      SHUTDOWN_TIMEOUT_MS: '15000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const logs: LogLine[] = [];
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('{')) logs.push(JSON.parse(line));
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) break;
    const ready = await fetch(`${base}/health/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return { child, base, logs, exited };
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`the app did not become ready:\n${stderr}`);
};

const post = (base: string, path: string, body: object) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

type Ack = { accountId: string; revision: number; position: string };

describe('SIGTERM under load', () => {
  it('loses no acknowledged command, and the restarted system catches up to the same state', async () => {
    const port = await freePort();
    const first = await startApp(port);

    const accounts = Array.from({ length: 8 }, (_, i) => `load-${i}`);
    const acks: Ack[] = [];
    for (const accountId of accounts) {
      const response = await post(first.base, '/accounts', { accountId, owner: 'Ada', currency: 'EUR' });
      expect(response.status).toBe(201);
      acks.push((await response.json()) as Ack);
    }

    // One client per account, depositing until the server stops answering (bounded all the same).
    let refused = 0;
    const clients = accounts.map(async (accountId) => {
      for (let i = 0; i < 5_000; i++) {
        try {
          const response = await post(first.base, `/accounts/${accountId}/deposits`, { amount: 1 });
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

    while (acks.length < accounts.length + 200) await sleep(10);
    first.child.kill('SIGTERM');
    const [code] = await first.exited;
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
      stoppedAt = await checkpointStream(store, 'transfer-process').load();
      expect(stoppedAt).toBeDefined();
      expect(stoppedAt as bigint).toBeLessThanOrEqual((await store.headPosition()) as bigint);
      for (const accountId of accounts) {
        const stream = await store.readStream(`account-${accountId}`);
        const byRevision = new Map(stream.map((event) => [event.revision, String(event.position)]));
        for (const ack of acks.filter((a) => a.accountId === accountId))
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
        for (const accountId of accounts) {
          const stream = await reopened.readStream(`account-${accountId}`);
          const deposits = stream.filter((event) => event.type === 'MoneyDeposited').length;
          const response = await fetch(`${second.base}/accounts/${accountId}`, {
            headers: { 'x-min-position': head },
          });
          expect(response.status).toBe(200);
          expect(await response.json()).toMatchObject({
            accountId,
            balance: deposits,
            revision: (stream.at(-1)?.revision as number) ?? -1,
          });
        }
      } finally {
        await reopened.close();
      }
    } finally {
      second.child.kill('SIGTERM');
      expect((await second.exited)[0]).toBe(0);
    }
    const final = createSqliteEventStore({ file: join(dir, 'events.sqlite') });
    try {
      expect((await checkpointStream(final, 'transfer-process').load()) as bigint).toBeGreaterThanOrEqual(
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
