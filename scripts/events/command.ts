import type { Config } from '../../infra/config.js';

/**
 * One `npm run events -- <name>` command: a summary for the usage text and a function returning
 * the exit code. scripts/events.ts lists them.
 */
export type Command = {
  usage: string;
  summary: string;
  run(args: readonly string[], config: Config): Promise<number>;
};

/** The arguments do not fit the command: the usage is printed with this message, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
