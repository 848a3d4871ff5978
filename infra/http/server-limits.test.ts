import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { registerHealthRoutes } from '../health/health-routes.js';
import { createLogger } from '../logger.js';
import { createHttpApp, type HttpApp } from './create-http-app.js';
import type { HttpLimits } from './server-limits.js';

/** Raw sockets, as an attacker would use them: what the server writes, and when it closes. */
const open = (port: number) =>
  new Promise<Socket>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });

/** Everything the server writes until it closes the socket, and how long that took. */
const untilClosed = (socket: Socket) =>
  new Promise<{ text: string; ms: number }>((resolve) => {
    const started = Date.now();
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ text, ms: Date.now() - started }));
  });

const problemOf = (text: string) => {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  return { statusLine: head.split('\r\n')[0], head: head.toLowerCase(), problem: JSON.parse(body) };
};

let app: HttpApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const start = async (limits: Partial<HttpLimits>) => {
  app = createHttpApp({
    auth: { disabled: true },
    logger: createLogger({ level: 'silent' }),
    bodyLimit: 1024,
    limits,
  });
  app.post('/echo', async (request) => request.body);
  registerHealthRoutes(app, { checks: [] } as never);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
};

describe('HTTP server limits', () => {
  it('answers headers over the limit with a 431 problem document and closes', async () => {
    const port = await start({ maxHeaderSizeBytes: 1024 });
    const socket = await open(port);
    const closed = untilClosed(socket);
    socket.write(`GET /health/live HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(4096)}\r\n\r\n`);
    const { text } = await closed;
    const { statusLine, head, problem } = problemOf(text);
    expect(statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(head).toContain('content-type: application/problem+json');
    expect(problem).toMatchObject({ type: 'urn:eventfold:problem:headers-too-large', status: 431 });
  });

  it('closes a body that trickles in with a 408 problem document once the request timeout passes', async () => {
    const port = await start({ requestTimeoutMs: 300, headersTimeoutMs: 200 });
    const socket = await open(port);
    const closed = untilClosed(socket);
    socket.write(
      'POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{',
    );
    const trickle = setInterval(() => socket.writable && socket.write(' '), 50);
    const { text, ms } = await closed;
    clearInterval(trickle);
    const { statusLine, head, problem } = problemOf(text);
    expect(statusLine).toBe('HTTP/1.1 408 Request Timeout');
    expect(head).toContain('content-type: application/problem+json');
    expect(problem).toMatchObject({ type: 'urn:eventfold:problem:request-timeout', status: 408 });
    expect(ms).toBeLessThan(3000);
  });

  it('answers what the parser refuses with a 400 problem document', async () => {
    const port = await start({});
    const socket = await open(port);
    const closed = untilClosed(socket);
    socket.write('NOT HTTP AT ALL\r\n\r\n');
    const { statusLine, problem } = problemOf((await closed).text);
    expect(statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(problem).toMatchObject({ type: 'urn:eventfold:problem:malformed-request', status: 400 });
  });

  it('closes connections beyond the maximum while a held keep-alive connection still gets /health/live', async () => {
    const port = await start({ maxConnections: 3 });
    const held = await open(port);
    let answers = '';
    held.on('data', (chunk) => {
      answers += chunk.toString();
    });
    const live = async () => {
      const before = answers.length;
      held.write('GET /health/live HTTP/1.1\r\nhost: x\r\n\r\n');
      await expect.poll(() => answers.slice(before)).toContain('{"status":"up"}');
      return answers.slice(before);
    };
    expect(await live()).toMatch(/^HTTP\/1.1 200/);
    const idle = [await open(port), await open(port)];
    // Connections over the limit are accepted by the kernel, then closed by the server at once.
    const extra = await Promise.all(Array.from({ length: 5 }, async () => untilClosed(await open(port))));
    for (const { text } of extra) expect(text).toBe('');
    expect(await live()).toMatch(/^HTTP\/1.1 200/);
    for (const socket of [held, ...idle]) socket.destroy();
  });
});
