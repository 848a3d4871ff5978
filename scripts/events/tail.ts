import {
  type EventFilter,
  isCorruptEvent,
  isEventStoreUnavailable,
  type Position,
  positionToJson,
} from '../../infra/event-store/event-store.js';
import { resubscribing } from '../../infra/event-store/resubscribe.js';
import { type Command, UsageError } from './command.js';
import { openLog } from './open-log.js';
import { parseCommandArgs } from './parse-args.js';
import { eventLines, jsonLine } from './show-event.js';

export const tail: Command = {
  usage: 'tail [--type <type>]... [--stream-prefix <prefix>]... [--from-start] [--json]',
  summary: `follows $all live and prints each event as it is appended, from the end of the log
        (--from-start: from its beginning); --type and --stream-prefix (each repeatable) keep
        only those event types or streams. Stops on Ctrl-C (SIGINT) or SIGTERM, exit code 0.`,
  async run(args, config) {
    const { values, positionals } = parseCommandArgs(args, {
      json: { type: 'boolean' },
      type: { type: 'string', multiple: true },
      'stream-prefix': { type: 'string', multiple: true },
      'from-start': { type: 'boolean' },
    });
    if (positionals.length > 0) throw new UsageError(`tail takes no argument (${positionals[0]}?)`);
    const filter: EventFilter | undefined =
      values.type || values['stream-prefix']
        ? {
            ...(values.type && { eventTypes: values.type }),
            ...(values['stream-prefix'] && { streamPrefixes: values['stream-prefix'] }),
          }
        : undefined;

    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    // A reader that went away (`| head`): nothing left to print to.
    process.stdout.on('error', onSignal);
    const log = await openLog(config);
    try {
      let after: Position | undefined = values['from-start'] ? undefined : await log.store.headPosition();
      const only = [
        ...(values.type ?? []).map((type) => `type ${type}`),
        ...(values['stream-prefix'] ?? []).map((prefix) => `streams ${prefix}*`),
      ];
      console.error(
        `following $all of ${log.name} ${after === undefined ? 'from the start' : `after position ${positionToJson(after)}`}` +
          `${only.length > 0 ? `, only ${only.join(' or ')}` : ''} (Ctrl-C stops)`,
      );
      while (!stop.signal.aborted) {
        try {
          const events = resubscribing(
            () => log.store.subscribeToAll({ after, filter, signal: stop.signal }),
            { isTransient: isEventStoreUnavailable, signal: stop.signal },
          );
          for await (const event of events) {
            after = event.position;
            console.log(values.json ? jsonLine(event) : eventLines(event).join('\n'));
          }
        } catch (error) {
          if (stop.signal.aborted) break;
          // Everything before it was printed; say so and go on past it.
          if (!isCorruptEvent(error)) throw error;
          console.error(`${error.message} (skipped; npm run events -- verify lists every damaged event)`);
          after = error.position;
        }
      }
      console.error('stopped');
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await log.close();
    }
  },
};
