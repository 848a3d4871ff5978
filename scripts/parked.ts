import { createLogger } from '../infra/logger.js';
import { parkedEvents } from '../projections/engine/parked-events.js';
import { replayParked } from '../projections/engine/replay-parked.js';
import { startProjections } from '../projections/start-projections.js';
import { openProjectionCli, type ProjectionCli } from './projection-cli.js';

const USAGE = `usage: npm run parked -- list [projection]
       npm run parked -- replay [projection]

list    the events projections parked, by stream: the first of each stream parked because its handler
        or its writes kept failing; the later ones of that stream wait behind it, so that the read
        model never shows the stream with a hole
replay  runs each stream's parked events through the projection's handler again, in stream order,
        after you have fixed it; an event that now projects leaves the list, one that fails again
        stays with its new error, and the later ones of its stream stay parked behind it`;

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
  const streams = new Map<string, typeof entries>();
  for (const entry of entries) {
    const stream = `${entry.projection}  ${entry.event.streamId}`;
    const same = streams.get(stream);
    if (same) same.push(entry);
    else streams.set(stream, [entry]);
  }
  for (const [stream, parked] of streams) {
    console.log(`${stream}  ${parked.length} parked`);
    for (const { event, ...entry } of parked) {
      const at = `  position ${event.position}  @${event.revision}  ${event.type}`;
      if (entry.behind !== undefined) console.log(`${at}  waiting behind ${entry.behind}`);
      else
        console.log(
          `${at}  attempts ${entry.attempts}  parked ${entry.parkedAt}\n` +
            indent(indent(`${entry.error.name}: ${entry.error.message}`)),
        );
    }
  }
  console.log(`\n${entries.length} parked event${entries.length === 1 ? '' : 's'}`);
};

const replay = async (cli: ProjectionCli, name: string | undefined) => {
  let failed = 0;
  for (const projection of cli.select(name)) {
    const result = await replayParked({
      projection,
      readStore: cli.readStore,
      eventStore: cli.eventStore,
      logger: cli.logger,
    });
    for (const id of result.replayed) console.log(`replayed ${id}`);
    if (result.superseded.length > 0)
      console.log(
        `${result.superseded.length} of these changed nothing: a later event of the same stream had already\n` +
          'moved its document on, so what only the replayed event carried is missing. Rebuild:\n' +
          `    npm run projections:rebuild -- ${projection.name}`,
      );
    for (const { id, error } of result.failed) console.log(`still failing ${id}:\n${indent(error)}`);
    for (const id of result.waiting)
      console.log(`still waiting ${id}: an earlier event of its stream failed again`);
    console.log(
      `${projection.name}: ${result.replayed.length} replayed, ${result.failed.length} still failing, ` +
        `${result.waiting.length} waiting behind them`,
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
