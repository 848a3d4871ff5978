import { pino } from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs on stdout. Request logs carry `correlationId` (see http/create-http-app.ts). */
export const createLogger = (options: { level: string; name?: string }): Logger =>
  pino({
    name: options.name ?? 'eventfold',
    level: options.level,
    // Never log credentials or idempotency keys that clients may treat as secrets.
    redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["idempotency-key"]'],
  });
