import { createRequire } from 'node:module';
import { pino } from 'pino';

export type Logger = pino.Logger;

export const LOG_FORMATS = ['json', 'pretty'] as const;
/** `json`: one object a line, for machines (log shippers, `jq`). `pretty`: coloured lines, for a person. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * JSON unless a person is reading: `pretty` when stdout is a terminal and NODE_ENV is not
 * `production`, `json` otherwise (pipes, files, containers, CI). LOG_FORMAT, when set, decides.
 */
export const chooseLogFormat = ({
  explicit,
  stdoutIsTTY,
  nodeEnv,
}: {
  /** LOG_FORMAT. */
  explicit?: LogFormat | undefined;
  /** process.stdout.isTTY (undefined when stdout is not a terminal). */
  stdoutIsTTY: boolean | undefined;
  /** process.env.NODE_ENV. */
  nodeEnv: string | undefined;
}): LogFormat => explicit ?? (stdoutIsTTY === true && nodeEnv !== 'production' ? 'pretty' : 'json');

export type LoggerOptions = {
  level: string;
  name?: string;
  /** Default `json`; see chooseLogFormat. */
  format?: LogFormat;
  /** Where lines go. Default: stdout. */
  destination?: NodeJS.WritableStream;
};

/**
 * Structured logs on stdout: JSON, or the same records made readable by pino-pretty. Request logs
 * carry `correlationId` (see http/create-http-app.ts).
 */
export const createLogger = ({
  level,
  name = 'eventfold',
  format = 'json',
  destination,
}: LoggerOptions): Logger => {
  const options: pino.LoggerOptions = {
    name,
    level,
    // Never log credentials or idempotency keys that clients may treat as secrets.
    redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["idempotency-key"]'],
  };
  if (format === 'json') return destination ? pino(options, destination) : pino(options);
  // Loaded only when asked for, so a JSON logger (production) never loads it.
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return pino(
    options,
    pretty({
      // Synchronous, as pino's own stdout is: a line logged just before process.exit is not lost.
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      ...(destination && { destination, colorize: false }),
    }),
  );
};
