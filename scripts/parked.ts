import { createLogger } from '../infra/logger.js';
import { parkedEvents } from '../projections/engine/parked-events.js';
import { replayParked } from '../projections/engine/replay-parked.js';
import { startProjections } from '../projections/start-projections.js';
import { openProjectionCli, type ProjectionCli } from './projection-cli.js';

const USAGE = `usage: npm run parked -- list [projection]
       npm run parked -- replay [projection]

list    the events projections parked (their handler or their writes kept failing), oldest first
replay  runs each parked event through the projection's handler again, after you have fixed it;
        an event that now projects leaves the list, one that fails again stays with its new error`;

/**
 * The embedded read store lives in the memory of the process that runs it, so its parked events
 * are not reachable from here: this process projects the log itself first, and shows what that
 * run parked. With MONGO_URL set, the script works on the shared read store directly.
 */
const projectLogHere = async (cli: ProjectionCli) => {
  console.log(
    'MONGO_URL is not set: the embedded read store lives in the memory of the process that runs it,\n' +
      "so the app's parked events are out of reach. Projecting the log in this process first; what\n" +
      'follows is what this run parked (and, for replay, re-ran).\n',
  );
  const head = await cli.eventStore.headPosition();
  // What this run parks is listed below; its error log lines would only repeat it.
  const logger = createLogger({ level: 'fatal' });
  const projections = startProjections({ ...cli, logger, projections: cli.projections });
  try {
    if (head !== undefined)
      for (const { name } of cli.projections)
        await projections.waitForCheckpoint(name, head, { timeoutMs: 24 * 60 * 60 * 1000 });
  } finally {
    await projections.stop();
  }
};

const indent = (text: string) => text.replace(/^/gm, '    ');

const list = async (cli: ProjectionCli, name: string | undefined) => {
  cli.select(name);
  const entries = await parkedEvents(cli.readStore).list(name);
  if (entries.length === 0) {
    console.log(name === undefined ? 'no parked events' : `no parked events for ${name}`);
    return;
  }
  for (const entry of entries) {
    const { event } = entry;
    console.log(
      `${entry.projection}  position ${event.position}  ${event.streamId}@${event.revision}  ${event.type}` +
        `  attempts ${entry.attempts}  parked ${entry.parkedAt}\n${indent(`${entry.error.name}: ${entry.error.message}`)}`,
    );
  }
  console.log(`\n${entries.length} parked event${entries.length === 1 ? '' : 's'}`);
};

const replay = async (cli: ProjectionCli, name: string | undefined) => {
  let failed = 0;
  for (const projection of cli.select(name)) {
    const result = await replayParked({ projection, readStore: cli.readStore, logger: cli.logger });
    for (const id of result.replayed) console.log(`replayed ${id}`);
    if (result.superseded.length > 0)
      console.log(
        `${result.superseded.length} of these changed nothing: a later event of the same stream had already\n` +
          'moved its document on, so what only the replayed event carried is missing. Rebuild:\n' +
          `    npm run projections:rebuild -- ${projection.name}`,
      );
    for (const { id, error } of result.failed) console.log(`still failing ${id}:\n${indent(error)}`);
    console.log(
      `${projection.name}: ${result.replayed.length} replayed, ${result.failed.length} still failing`,
    );
    failed += result.failed.length;
  }
  if (failed > 0) process.exitCode = 1;
};

const [command, name, ...rest] = process.argv.slice(2);
if ((command !== 'list' && command !== 'replay') || rest.length > 0) {
  console.error(USAGE);
  process.exit(2);
}
const cli = await openProjectionCli();
try {
  cli.select(name);
  if (cli.embedded) await projectLogHere(cli);
  await (command === 'list' ? list(cli, name) : replay(cli, name));
} finally {
  await cli.close();
}
