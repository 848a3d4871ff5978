import cliProgress from 'cli-progress';
import { positionToJson } from '../infra/event-store/event-store.js';
import { rebuildProjection } from '../projections/engine/rebuild.js';
import { tuningFrom } from '../projections/start-projections.js';
import { openProjectionCli } from './projection-cli.js';

const USAGE = `usage: npm run projections:rebuild -- <projection>

Builds the projection again from the start of the event log into fresh collections, while the
live model keeps serving; then takes the projection's lease (a running projector pauses), catches
up, swaps the fresh collections in and hands the lease back.`;

const args = process.argv.slice(2);
if (args.length !== 1 || args[0]?.startsWith('-')) {
  console.error(USAGE);
  process.exit(2);
}
const cli = await openProjectionCli();
const [projection] = cli.select(args[0]);
if (!projection) throw new Error('select returns at least one projection');

if (cli.embedded)
  console.log(
    'MONGO_URL is not set: the embedded read store lives in the memory of the process that runs it and\n' +
      'is rebuilt from the log every time the app starts. This run only demonstrates the rebuild, in\n' +
      "this process's own store; the running app's read models are not touched.\n",
  );

// Progress is measured in `$all` positions (the embedded stores number events 1, 2, 3…, so there a
// position is a count of events; on EventStoreDB it is a log offset). The rate counts events projected.
const bar = new cliProgress.SingleBar(
  {
    format: `${projection.name} [{bar}] {percentage}% | position {value}/{total} | {events} events, {rate} events/s | {phase} | ETA {eta_formatted}`,
    hideCursor: true,
    etaBuffer: 50,
  },
  cliProgress.Presets.shades_classic,
);
// Ctrl-C cancels before the swap: the live model stays as it was and the lease goes back at once,
// instead of the live projector waiting for the lease to expire.
const cancel = new AbortController();
process.once('SIGINT', () => {
  console.error(`\ncancelling the rebuild of ${projection.name}; the live model is left as it was`);
  cancel.abort();
});
const started = performance.now();
const head = await cli.eventStore.headPosition();
bar.start(Number(head ?? 0n), 0, { events: 0, rate: 0, phase: 'catching up' });

try {
  const result = await rebuildProjection({
    projection,
    eventStore: cli.eventStore,
    readStore: cli.readStore,
    logger: cli.logger,
    tuning: tuningFrom(cli.config),
    leaseTtlMs: cli.config.PROJECTION_LEASE_TTL_MS,
    signal: cancel.signal,
    onProgress: ({ phase, eventsProjected, position, head }) => {
      const seconds = (performance.now() - started) / 1000;
      if (head !== undefined) bar.setTotal(Number(head));
      bar.update(Number(position ?? 0n), {
        events: eventsProjected,
        rate: seconds > 0 ? Math.round(eventsProjected / seconds) : 0,
        phase: phase === 'catching-up' ? 'catching up' : 'finishing under the lease',
      });
    },
  });
  bar.stop();
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `rebuilt ${result.projection}: ${result.eventsProjected} events in ${seconds.toFixed(1)} s, ` +
      `checkpoint ${result.checkpoint === undefined ? 'none (empty log)' : positionToJson(result.checkpoint)}, ` +
      `${result.parked} parked${result.parked > 0 ? ' (npm run parked -- list)' : ''}`,
  );
} catch (error) {
  bar.stop();
  console.error(
    `rebuild of ${projection.name} failed: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exitCode = 1;
} finally {
  await cli.close();
}
