import { describe, expect, it } from 'vitest';
import { createStreamQueue } from './stream-queue.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('stream queue', () => {
  it('runs the tasks of one key one at a time, in the order they came', async () => {
    const queue = createStreamQueue();
    const log: string[] = [];
    const task = (name: string) => async () => {
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
      return name;
    };
    expect(await Promise.all([queue.run('s', task('a')), queue.run('s', task('b'))])).toEqual(['a', 'b']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
    expect(queue.size).toBe(0);
  });

  it('runs different keys concurrently', async () => {
    const queue = createStreamQueue();
    const log: string[] = [];
    const task = (name: string) => async () => {
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
    };
    await Promise.all([queue.run('s', task('a')), queue.run('t', task('b'))]);
    expect(log.slice(0, 2)).toEqual(['start a', 'start b']);
  });

  it('gives a failure to its caller only, and runs the next task of the key', async () => {
    const queue = createStreamQueue();
    const failing = queue.run('s', async () => {
      throw new Error('no');
    });
    const next = queue.run('s', async () => 'ran');
    await expect(failing).rejects.toThrow('no');
    expect(await next).toBe('ran');
  });
});
