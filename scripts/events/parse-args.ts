import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './command.js';

/** node:util's parseArgs, strict, with its complaints as a UsageError (printed with the usage). */
export const parseCommandArgs = <Options extends NonNullable<ParseArgsConfig['options']>>(
  args: readonly string[],
  options: Options,
) => {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
};
