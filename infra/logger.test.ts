import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { chooseLogFormat, createLogger, type LogFormat } from './logger.js';

describe('chooseLogFormat', () => {
  it.each([
    // A person at a terminal, in development: readable lines.
    [undefined, true, undefined, 'pretty'],
    [undefined, true, 'development', 'pretty'],
    [undefined, true, 'test', 'pretty'],
    // Production, even on a terminal (docker run -it): JSON.
    [undefined, true, 'production', 'json'],
    // A pipe, a file, a container's log driver, CI: JSON.
    [undefined, false, undefined, 'json'],
    [undefined, undefined, 'development', 'json'],
    [undefined, undefined, 'production', 'json'],
    // LOG_FORMAT decides when it is set.
    ['json', true, 'development', 'json'],
    ['pretty', undefined, 'production', 'pretty'],
    ['pretty', false, undefined, 'pretty'],
  ] as const)('LOG_FORMAT=%s, TTY %s, NODE_ENV=%s: %s', (explicit, stdoutIsTTY, nodeEnv, expected) => {
    expect(chooseLogFormat({ explicit, stdoutIsTTY, nodeEnv })).toBe(expected);
  });
});

const capture = (format: LogFormat) => {
  const destination = new PassThrough();
  const chunks: string[] = [];
  destination.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const logger = createLogger({ level: 'info', format, destination });
  return { logger, text: () => chunks.join('') };
};

describe('createLogger', () => {
  it('writes one JSON object a line by default, without secrets', async () => {
    const { logger, text } = capture('json');
    logger.info({ req: { headers: { authorization: 'Bearer s3cret' } }, accountId: 'a-1' }, 'opened');
    await new Promise((resolve) => setImmediate(resolve));
    const record = JSON.parse(text().trim());
    expect(record).toMatchObject({ level: 30, name: 'eventfold', accountId: 'a-1', msg: 'opened' });
    expect(text()).not.toContain('s3cret');
  });

  it('writes readable lines with pino-pretty, with the same fields and redaction', async () => {
    const { logger, text } = capture('pretty');
    logger.info({ req: { headers: { authorization: 'Bearer s3cret' } }, accountId: 'a-1' }, 'opened');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const line = text();
    expect(line).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO \(eventfold\): opened\n/);
    expect(line).toContain('accountId: "a-1"');
    expect(line).not.toContain('s3cret');
    expect(() => JSON.parse(line)).toThrow();
  });
});
