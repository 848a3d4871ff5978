import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from './data-dir-lock.js';

const root = mkdtempSync(join(tmpdir(), 'eventfold-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
const newDir = () => join(root, `data-${++count}`);

const holdInChild = async (dataDir: string) => {
  const fixture = fileURLToPath(new URL('./testing/hold-data-dir.fixture.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  expect(line.toString()).toMatch(/^locked \d+/);
  return child;
};

describe('DATA_DIR lock', () => {
  it('refuses a second holder in the same process, naming the directory, until the first releases it', () => {
    const dataDir = newDir();
    const first = lockDataDir(dataDir);
    const refusal = (() => {
      try {
        lockDataDir(dataDir).release();
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(DataDirLockedError);
    expect((refusal as Error).message).toContain(dataDir);
    expect((refusal as Error).message).toContain(`pid ${process.pid}`);
    first.release();
    first.release(); // twice is harmless
    lockDataDir(dataDir).release();
  });

  it('refuses a second process, and is free again once its holder is killed with SIGKILL', async () => {
    const dataDir = newDir();
    const child = await holdInChild(dataDir);
    try {
      expect(() => lockDataDir(dataDir)).toThrow(
        new RegExp(`in use by another eventfold process \\(pid ${child.pid}`),
      );
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    // No staleness to wait out: the kernel dropped the lock with the process.
    lockDataDir(dataDir).release();
  });

  it('different directories do not share a lock', () => {
    const [a, b] = [lockDataDir(newDir()), lockDataDir(newDir())];
    a.release();
    b.release();
  });
});
