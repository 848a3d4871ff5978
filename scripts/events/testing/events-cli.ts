import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';

const root = resolve(import.meta.dirname, '../../..');

/** `npm run events -- <args>` as an operator starts it, its output gathered as it comes. */
export const startEvents = (args: readonly string[], env: Record<string, string>) => {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/events.ts', ...args],
    {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output.stderr += chunk.toString();
  });
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, ...output }));
  return {
    child,
    output,
    exited,
    /** Resolves once `stream`'s output so far matches, or rejects (with the output) after `timeoutMs`. */
    async waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output[stream])) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`no ${pattern} in ${stream}:\n${output[stream]}\nstderr:\n${output.stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
};

/** `npm run events -- <args>` to its end: exit code, stdout, stderr. */
export const runEvents = (args: readonly string[], env: Record<string, string>) =>
  startEvents(args, env).exited;
