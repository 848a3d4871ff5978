import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { shutdownOnSignals } from './shutdown-on-signals.js';

const setUp = (stop: () => Promise<void>, timeoutMs = 60_000) => {
  const signals = new EventEmitter();
  const exits: number[] = [];
  let exited: (code: number) => void = () => {};
  const nextExit = () =>
    new Promise<number>((resolve) => {
      exited = resolve;
    });
  let calls = 0;
  const remove = shutdownOnSignals({
    stop: () => {
      calls++;
      return stop();
    },
    logger: createLogger({ level: 'silent' }),
    timeoutMs,
    process: signals as unknown as Pick<NodeJS.Process, 'on' | 'off'>,
    exit: (code) => {
      exits.push(code);
      exited(code);
    },
  });
  return { signals, exits, nextExit, remove, stopCalls: () => calls };
};

describe('shutdownOnSignals', () => {
  it('stops gracefully on SIGTERM, then exits 0', async () => {
    const { signals, nextExit, stopCalls } = setUp(async () => {});
    const exit = nextExit();
    signals.emit('SIGTERM', 'SIGTERM');
    expect(await exit).toBe(0);
    expect(stopCalls()).toBe(1);
  });

  it('exits 1 when the stop fails', async () => {
    const { signals, nextExit } = setUp(async () => {
      throw new Error('close failed');
    });
    const exit = nextExit();
    signals.emit('SIGINT', 'SIGINT');
    expect(await exit).toBe(1);
  });

  it('exits 1 at once on a second signal, without a second stop', async () => {
    const { signals, exits, stopCalls } = setUp(() => new Promise(() => {}));
    signals.emit('SIGTERM', 'SIGTERM');
    signals.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([1]);
    expect(stopCalls()).toBe(1);
  });

  it('exits 1 when the stop hangs past the timeout', async () => {
    const { signals, nextExit } = setUp(() => new Promise(() => {}), 20);
    const exit = nextExit();
    signals.emit('SIGTERM', 'SIGTERM');
    expect(await exit).toBe(1);
  });

  it('removes its handlers', () => {
    const { signals, remove } = setUp(async () => {});
    remove();
    expect(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT')).toBe(0);
  });
});
