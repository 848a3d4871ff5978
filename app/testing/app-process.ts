import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export { freePort } from '../../infra/testing/free-port.js';

import { freePort } from '../../infra/testing/free-port.js';

/**
 * The app as a deployment runs it (runApp), in a child process with the engines' fixture module:
 * `node --import tsx app/testing/fixture-main.ts`. For tests of what an operator meets: signals,
 * restarts, refusals at start-up.
 */
const root = resolve(import.meta.dirname, '../..');

export type LogLine = { msg?: string; level?: number; err?: { message?: string; type?: string } };

export type AppProcess = {
  child: ChildProcess;
  url: string;
  /** Its JSON log lines so far. */
  logs: LogLine[];
  /** The tail of its stderr. */
  stderr(): string;
  /** Its exit code, once it has exited. */
  exited: Promise<number | null>;
};

/**
 * Starts the app on `port` (default: a free one) with `env` over the inherited environment, and
 * resolves once it is ready (`ready: true`) or has exited (`ready: false` with its code). The caller
 * kills what it started: the child is handed to `track` at once.
 */
export const startAppProcess = async ({
  env,
  port,
  uid,
  track,
}: {
  env: Record<string, string>;
  port?: number;
  /** Run as this user (and group), e.g. to meet file permissions as a non-root user would. */
  uid?: number;
  track: (child: ChildProcess) => void;
}): Promise<(AppProcess & { ready: true }) | (AppProcess & { ready: false; code: number | null })> => {
  const listenOn = port ?? (await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/testing/fixture-main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(listenOn),
      HOST: '127.0.0.1',
      LOG_FORMAT: 'json',
      // What these tests meet is start-up, signals and storage; who may call the API is tested in
      // app/system.test.ts (the development key) and infra/auth/. A test may switch it back on.
      AUTH_DISABLED: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(uid !== undefined && { uid, gid: uid }),
  });
  track(child);
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
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const url = `http://127.0.0.1:${listenOn}`;
  const app: AppProcess = { child, url, logs, stderr: () => stderr, exited };
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) return { ...app, ready: false, code: child.exitCode };
    const ready = await fetch(`${url}/health/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return { ...app, ready: true };
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`the app neither became ready nor exited:\n${stderr}`);
};
