import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../testing/free-port.js';

export type RedisServer = { url: string; port: number; stop(): Promise<void> };

const STARTUP_TIMEOUT_MS = 10_000;

/** Whether a real redis-server can be started here. */
export const redisServerAvailable = (): boolean =>
  spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * Starts a throwaway redis-server on a free port (or on `port`, to bring one back where a stopped
 * one was), with nothing persisted, and resolves once it answers PING.
 */
export const startRedisServer = async ({ port }: { port?: number } = {}): Promise<RedisServer> => {
  const listenOn = port ?? (await freePort());
  const child = spawn(
    'redis-server',
    ['--port', String(listenOn), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Keep the tail of its output for the error message, and keep the pipes drained.
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-2_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = once(child, 'exit');
  // A test run that dies must not leave servers behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killed = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killed);
  };

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if ((await answersPing(listenOn)) && child.exitCode === null) {
      return { url: `redis://127.0.0.1:${listenOn}`, port: listenOn, stop };
    }
    await sleep(25);
  }
  await stop();
  throw new Error(`redis-server did not start on port ${listenOn}:\n${output}`);
};

const answersPing = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (reply) => done(reply.toString().startsWith('+PONG')));
  });
