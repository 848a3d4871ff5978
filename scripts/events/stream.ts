import { isCorruptEvent } from '../../infra/event-store/event-store.js';
import { type Command, UsageError } from './command.js';
import { openLog } from './open-log.js';
import { parseCommandArgs } from './parse-args.js';
import { eventLines, jsonLine } from './show-event.js';

export const stream: Command = {
  usage: 'stream <stream-id> [--json]',
  summary: `prints a stream's events in revision order: position, revision, type, schema version,
        time, every metadata field (correlation, causation, idempotency key...) and the data.
        Exit code 1 when the stream has no events.`,
  async run(args, config) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } });
    const [streamId, ...extra] = positionals;
    if (streamId === undefined || extra.length > 0) throw new UsageError('stream takes one stream id');
    const log = await openLog(config);
    try {
      let events: Awaited<ReturnType<typeof log.store.readStream>>;
      try {
        events = await log.store.readStream(streamId);
      } catch (error) {
        if (!isCorruptEvent(error)) throw error;
        console.error(`${error.message}\n(npm run events -- verify lists every damaged event)`);
        return 1;
      }
      if (events.length === 0) {
        console.error(`stream ${streamId} has no events in ${log.name}`);
        return 1;
      }
      if (values.json) for (const event of events) console.log(jsonLine(event));
      else {
        console.log(`stream ${streamId}: ${events.length} event(s) in ${log.name}`);
        for (const event of events) console.log(eventLines(event).join('\n'));
      }
      return 0;
    } finally {
      await log.close();
    }
  },
};
