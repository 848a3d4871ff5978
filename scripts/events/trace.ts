import { positionToJson } from '../../infra/event-store/event-store.js';
import { causationTree, renderCausationTree } from './causation-tree.js';
import { type Command, UsageError } from './command.js';
import { openLog } from './open-log.js';
import { parseCommandArgs } from './parse-args.js';
import { jsonLine } from './show-event.js';

export const trace: Command = {
  usage: 'trace <correlation-id> [--json]',
  summary: `prints every event written on behalf of one request (its correlation id: the
        x-correlation-id of the HTTP request), across streams, as a tree of causes: each event
        under the event or request that caused it, in log order (a transfer: its request, both
        legs, the outcome). --json prints the events in log order; the tree is in their
        metadata (eventId, causationId). Exit code 1 when no event has this correlation id, or
        a damaged event was met (it may belong to the trace).`,
  async run(args, config) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } });
    const [correlationId, ...extra] = positionals;
    if (correlationId === undefined || extra.length > 0)
      throw new UsageError('trace takes one correlation id');
    const log = await openLog(config);
    try {
      const { events, damaged } = await log.byCorrelation(correlationId, (scanned) =>
        process.stderr.write(`  ${scanned} events read...\r`),
      );
      if (values.json) for (const event of events) console.log(jsonLine(event));
      else if (events.length > 0) {
        const streams = new Set(events.map((event) => event.streamId)).size;
        console.log(
          `correlation ${correlationId}: ${events.length} event(s) in ${streams} stream(s) of ${log.name}`,
        );
        for (const line of renderCausationTree(causationTree(events), correlationId)) console.log(line);
      }
      if (events.length === 0) console.error(`no event has correlation id ${correlationId} in ${log.name}`);
      for (const error of damaged)
        console.error(
          `damaged: position ${positionToJson(error.position)}, stream ${error.streamId}, revision ${error.revision}: ${error.reason}` +
            ' (it may belong to this correlation; npm run events -- verify lists every damaged event)',
        );
      return events.length === 0 || damaged.length > 0 ? 1 : 0;
    } finally {
      await log.close();
    }
  },
};
