type LogFn = {
  (bindings: object, message?: string): void;
  (message: string): void;
};

/** What the projections need of a logger: pino's shape, so a pino logger (or a child) fits. */
export type Logger = {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
};
