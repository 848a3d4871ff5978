import { join } from 'node:path';
import { type Config, loadConfigOrExit } from '../infra/config.js';
import { createEventStore, EVENTS_FILE } from '../infra/event-store/create-event-store.js';
import { type EventStore, positionToJson } from '../infra/event-store/event-store.js';
import { createSqliteEventStore } from '../infra/event-store/sqlite-event-store.js';
import { inspectEventsFile } from '../infra/event-store/sqlite-inspect.js';
import { MARKER_FILE } from '../infra/event-store/store-marker.js';
import { verifyEventStore } from '../infra/event-store/verify-store.js';
import { type Command, UsageError } from './events/command.js';
import { NoLogError } from './events/open-log.js';
import { stream } from './events/stream.js';
import { tail } from './events/tail.js';
import { trace } from './events/trace.js';

/**
 * `npm run events -- <command>`: tools that work on the event log itself. Each command is an entry
 * of COMMANDS (a summary for the usage text and a function returning the exit code), so the next
 * one is added there; the inspector's (stream, tail, trace) are in events/. The store is the one
 * the configuration names: the embedded SQLite store under DATA_DIR by default, EventStoreDB when
 * EVENTSTORE_URL is set.
 */

const MAX_LISTED = 100;

const verify: Command = {
  usage: 'verify',
  summary: `reads every event of the store and checks it: its checksum (is its content what was written?),
        that it parses, and that each stream's revisions run 0, 1, 2... with none missing. For the
        embedded store also SQLite's integrity_check of the whole file and the DATA_DIR history
        marker. The file is opened read-only: it may run while the app runs. Prints what is damaged;
        exit code 1 if anything is, 0 if nothing is.`,
  async run(_args, config) {
    const problems: string[] = [];
    let store: EventStore;
    if (config.EVENTSTORE_URL) {
      console.log(`verifying EventStoreDB at ${config.EVENTSTORE_URL}`);
      console.log('  (events written by others, without an eventfold checksum, are read unchecked)');
      store = await createEventStore(config);
    } else {
      const file = join(config.DATA_DIR, EVENTS_FILE);
      console.log(`verifying the embedded event store ${file} (read-only)`);
      const inspection = inspectEventsFile(file, join(config.DATA_DIR, MARKER_FILE));
      for (const line of inspection.checked) console.log(`  ${line}`);
      problems.push(...inspection.problems);
      if (!inspection.exists) {
        if (problems.length === 0) console.log('  no event log here: nothing to verify');
        return report(problems);
      }
      if (!inspection.checksums)
        console.log(
          '  written before checksums: its events are read unchecked (the app computes their checksums at its next start)',
        );
      store = createSqliteEventStore({ file, readonly: true });
    }
    try {
      const started = performance.now();
      const result = await verifyEventStore(store, {
        onProgress: ({ events }) => process.stderr.write(`  ${events} events read...\r`),
      });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(
        `  ${result.events} events in ${result.streams} streams read and checked in ${seconds} s` +
          (result.head === undefined
            ? ' (the store is empty)'
            : `, up to position ${positionToJson(result.head)}`),
      );
      for (const error of result.damaged)
        problems.push(
          `damaged: position ${positionToJson(error.position)}, stream ${error.streamId}, revision ${error.revision}` +
            `${error.storedType ? ` (${error.storedType})` : ''}: ${error.reason}`,
        );
      if (result.stopped)
        problems.push(
          `reading stopped after position ${result.stopped.after === undefined ? '(none)' : positionToJson(result.stopped.after)}: ${result.stopped.error.message}`,
        );
      for (const gap of result.gaps)
        problems.push(
          `missing: stream ${gap.streamId} goes from revision ${gap.expected - 1} to ${gap.found} (position ${positionToJson(gap.position)})`,
        );
    } finally {
      await store.close();
    }
    return report(problems);
  },
};

const report = (problems: readonly string[]): number => {
  if (problems.length === 0) {
    console.log('nothing damaged');
    return 0;
  }
  console.log(`${problems.length} problem(s):`);
  for (const problem of problems.slice(0, MAX_LISTED)) console.log(`  ${problem}`);
  if (problems.length > MAX_LISTED) console.log(`  ... and ${problems.length - MAX_LISTED} more`);
  console.log(
    'Restore the damaged events (or the whole file) from a backup. Until then commands on those streams\n' +
      'answer 500 and projections park their events.',
  );
  return 1;
};

const COMMANDS: Record<string, Command> = { verify, stream, tail, trace };

const JSON_NOTE = `--json prints one JSON object per event and line (NDJSON), nothing else on stdout: position (a
decimal string), streamId, revision, type, metadata and data as stored. Messages go to stderr.`;

const usage = () =>
  `usage: npm run events -- <command>\n\n${Object.values(COMMANDS)
    .map((command) => `${command.usage}\n        ${command.summary}`)
    .join('\n\n')}\n\n${JSON_NOTE}`;

const [name, ...args] = process.argv.slice(2);
const command = name === undefined ? undefined : COMMANDS[name];
if (!command) {
  console.error(usage());
  process.exit(2);
}
const config: Config = loadConfigOrExit(2);
try {
  process.exit(await command.run(args, config));
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n\n${usage()}`);
    process.exit(2);
  }
  if (!(error instanceof NoLogError)) throw error;
  console.error(error.message);
  process.exit(1);
}
