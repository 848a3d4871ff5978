import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { createHttpApp } from './create-http-app.js';

const problemFields = ['type', 'title', 'status', 'detail', 'instance', 'correlationId', 'errors'];

describe('the shared HTTP app', () => {
  it('answers its own 4xx (body too large, wrong media type) with plain problem documents', async () => {
    const app = createHttpApp({
      auth: { disabled: true },
      logger: createLogger({ level: 'silent' }),
      bodyLimit: 64,
    });
    app.post('/echo', async (request) => request.body);
    await app.ready();
    const tooLarge = await app.inject({ method: 'POST', url: '/echo', payload: { text: 'x'.repeat(200) } });
    const notJson = await app.inject({
      method: 'POST',
      url: '/echo',
      payload: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    for (const [response, status] of [
      [tooLarge, 413],
      [notJson, 415],
    ] as const) {
      expect(response.statusCode).toBe(status);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      const problem = response.json();
      expect(problem.status).toBe(status);
      // Only RFC 9457 members and ours: no internal lookup fields leak into the answer.
      for (const key of Object.keys(problem)) expect(problemFields).toContain(key);
    }
    await app.close();
  });

  it('answers a request that arrives while it closes with a 503 problem', async () => {
    const app = createHttpApp({
      auth: { disabled: true },
      logger: createLogger({ level: 'silent' }),
      bodyLimit: 1024,
    });
    app.get('/hello', async () => ({ hello: 'world' }));
    // Close work that takes a while (a subscriber stopping, say): the server still listens then.
    let closeWorkStarted: () => void = () => {};
    const closing = new Promise<void>((resolve) => {
      closeWorkStarted = resolve;
    });
    let finishCloseWork: () => void = () => {};
    const closeWork = new Promise<void>((resolve) => {
      finishCloseWork = resolve;
    });
    app.addHook('preClose', async () => {
      closeWorkStarted();
      await closeWork;
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    expect((await fetch(`http://127.0.0.1:${port}/hello`)).status).toBe(200);

    const closed = app.close();
    await closing;
    const late = await fetch(`http://127.0.0.1:${port}/hello`);
    expect(late.status).toBe(503);
    expect(late.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(late.headers.get('retry-after')).toBe('1');
    expect(await late.json()).toMatchObject({ status: 503, type: 'urn:eventfold:problem:shutting-down' });
    finishCloseWork();
    await closed;
  });
});
