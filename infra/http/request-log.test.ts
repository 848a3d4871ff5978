import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { createHttpApp } from './create-http-app.js';
import type { RequestLogOptions } from './request-log.js';

/** Request logging (request-log.ts): one line a request, at info only for errors, slow ones and a sample. */
const appLogging = async (level: string, requestLog: RequestLogOptions) => {
  const destination = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  destination.on('data', (chunk: Buffer) => {
    for (const text of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(text));
  });
  const app = createHttpApp({
    auth: { disabled: true },
    logger: createLogger({ level, destination }),
    bodyLimit: 1024,
    requestLog,
  });
  app.get('/ok', async () => ({ ok: true }));
  app.get('/slow', async () => {
    await sleep(60);
    return { ok: true };
  });
  app.get('/boom', async () => {
    throw new Error('boom');
  });
  await app.ready();
  const get = (url: string, correlationId: string) =>
    app.inject({ url, headers: { 'x-correlation-id': correlationId } });
  const completed = () => lines.filter((line) => line.msg === 'request completed');
  return { app, lines, get, completed };
};

describe('request logging', () => {
  it('logs at info only server errors and slow requests, each line with its correlation id', async () => {
    const { app, lines, get, completed } = await appLogging('info', { slowMs: 50, sampleEvery: 0 });
    for (let i = 0; i < 20; i++) await get('/ok', `ok-${i}`);
    expect(completed()).toEqual([]);

    await get('/boom', 'boom-1');
    await get('/slow', 'slow-1');
    expect(completed()).toEqual([
      expect.objectContaining({ correlationId: 'boom-1', method: 'GET', url: '/boom', statusCode: 500 }),
      expect.objectContaining({ correlationId: 'slow-1', url: '/slow', statusCode: 200 }),
    ]);
    expect((completed()[1]?.responseTime as number) >= 50).toBe(true);
    // The error's own line carries the correlation id too.
    expect(lines.find((line) => line.msg === 'request failed')).toMatchObject({ correlationId: 'boom-1' });
    await app.close();
  });

  it('logs one request in sampleEvery at info', async () => {
    const { app, get, completed } = await appLogging('info', { slowMs: 10_000, sampleEvery: 5 });
    for (let i = 0; i < 20; i++) await get('/ok', `ok-${i}`);
    expect(completed().map((line) => line.correlationId)).toEqual(['ok-4', 'ok-9', 'ok-14', 'ok-19']);
    expect(completed().every((line) => line.level === 30)).toBe(true);
    await app.close();
  });

  it('logs every request, once, at debug', async () => {
    const { app, get, completed } = await appLogging('debug', { slowMs: 10_000, sampleEvery: 0 });
    for (let i = 0; i < 3; i++) await get('/ok', `ok-${i}`);
    await get('/nowhere', 'missing-1');
    expect(completed().map((line) => [line.correlationId, line.statusCode, line.level])).toEqual([
      ['ok-0', 200, 20],
      ['ok-1', 200, 20],
      ['ok-2', 200, 20],
      ['missing-1', 404, 20],
    ]);
    await app.close();
  });
});
