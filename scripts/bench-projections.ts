/**
 * npm run bench:projections — how fast a projector catches up from cold, and how long a read that
 * asks for its own write (x-min-position) waits, each next to its reference in the same run.
 *
 * 1. Catch-up: BENCH_EVENTS counter events over BENCH_STREAMS streams in the embedded SQLite event
 *    store; each of the fixture module's projections alone, from no checkpoint to the head, as the
 *    app runs it (default settings), into a fresh embedded read store on disk. References: the log
 *    read through the subscription alone, with the handler, and the projector with its writes
 *    discarded (what the engine costs without a read store). Medians of BENCH_ROUNDS runs, taking
 *    turns; CPU µs per event counts this process's CPU time, which other work on a shared machine
 *    inflates less than wall time.
 * 2. Read your writes, in process and over HTTP (scripts/bench-projections-read-your-writes.ts),
 *    PROJECTION_FLUSH=idle (the default) next to timer (the behaviour before), BENCH_RYW_WRITES
 *    writes a round, one at a time.
 *
 * Options (env): BENCH_EVENTS (default 50000), BENCH_STREAMS (default 1000), BENCH_ROUNDS (default 3),
 * BENCH_RYW_WRITES (default 100), BENCH_ONLY (catch-up, in-process or http: one part only),
 * BENCH_CPU_PROF (a folder: a CPU profile of each embedded-store catch-up is written there).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteEventStore } from '../infra/event-store/sqlite-event-store.js';
import { fixtureProjections } from '../projections/engine/testing/fixture-projection.js';
import {
  CATCH_UP_VARIANTS,
  type CatchUpVariant,
  fillCounterLog,
  runVariant,
  type Timed,
} from './bench-projections-catch-up.js';
import {
  type Latencies,
  readYourWritesInProcess,
  readYourWritesOverHttp,
} from './bench-projections-read-your-writes.js';
import { reportFigures } from './bench-results.js';
import { formatTable, median, percentile } from './bench-table.js';

const events = Number(process.env.BENCH_EVENTS ?? 50_000);
const streams = Number(process.env.BENCH_STREAMS ?? 1000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const rywWrites = Number(process.env.BENCH_RYW_WRITES ?? 100);
const only = process.env.BENCH_ONLY;
const cpuProfDir = process.env.BENCH_CPU_PROF;

const number = (value: number) => Math.round(value).toLocaleString('en-US');

const catchUpSection = async () => {
  console.log(
    `catch-up — ${number(events)} events over ${number(streams)} streams in SQLite; each projection alone, from cold; medians of ${rounds}`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'eventfold-bench-projections-'));
  const eventStore = createSqliteEventStore({ file: join(dir, 'events.sqlite'), synchronous: 'normal' });
  const session = cpuProfDir ? new Session() : undefined;
  session?.connect();
  try {
    await fillCounterLog(eventStore, { events, streams });
    const head = await eventStore.headPosition();
    if (head === undefined) throw new Error('nothing was appended');
    const rows: string[][] = [];
    for (const projection of fixtureProjections({})) {
      const matching = (
        await eventStore.readAll({
          filter: { eventTypes: projection.eventTypes, streamPrefixes: projection.streamPrefixes },
        })
      ).length;
      const runs = new Map<CatchUpVariant, Timed[]>(CATCH_UP_VARIANTS.map((variant) => [variant, []]));
      for (let round = 0; round < rounds; round++) {
        for (const variant of CATCH_UP_VARIANTS) {
          const profiled = session && round === 0 && variant === 'projector, embedded read store';
          if (profiled) {
            await session.post('Profiler.enable');
            await session.post('Profiler.start');
          }
          runs
            .get(variant)
            ?.push(await runVariant(variant, { eventStore, projection, head, dir, events: matching }));
          if (profiled && cpuProfDir) {
            const { profile } = await session.post('Profiler.stop');
            mkdirSync(cpuProfDir, { recursive: true });
            const file = join(cpuProfDir, `catch-up-${projection.name}.cpuprofile`);
            writeFileSync(file, JSON.stringify(profile));
            console.log(`  profile: ${file}`);
          }
        }
      }
      const perSecond = (variant: CatchUpVariant) =>
        matching / median((runs.get(variant) ?? []).map((run) => run.seconds));
      reportFigures([
        {
          figure: `projection catch-up from cold, embedded: ${projection.name}, events/s`,
          value: number(perSecond('projector, embedded read store')),
          reference: `log read alone: ${number(perSecond('log read'))}; writes discarded: ${number(perSecond('projector, writes discarded'))}`,
          goal: '≥ 50,000',
        },
      ]);
      for (const variant of CATCH_UP_VARIANTS) {
        const timed = runs.get(variant) ?? [];
        const seconds = median(timed.map((run) => run.seconds));
        rows.push([
          projection.name,
          variant,
          number(matching),
          seconds.toFixed(2),
          number(matching / seconds),
          median(timed.map((run) => run.cpuMicros / run.events)).toFixed(1),
        ]);
      }
    }
    console.log(
      `\n${formatTable(['projection', 'what', 'events', 'seconds', 'events/s', 'CPU µs/event'], rows)}\n`,
    );
  } finally {
    session?.disconnect();
    await eventStore.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

const latencyTable = (title: string, latencies: Latencies) =>
  formatTable(
    [title, 'reads', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
    [...latencies].map(([name, values]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return [
        name,
        String(sorted.length),
        percentile(sorted, 0.5).toFixed(2),
        percentile(sorted, 0.9).toFixed(2),
        percentile(sorted, 0.99).toFixed(2),
        (sorted[sorted.length - 1] ?? Number.NaN).toFixed(2),
      ];
    }),
  );

if (!only || only === 'catch-up') await catchUpSection();

if (!only || only === 'in-process') {
  console.log(
    `read your writes, in process — ${rywWrites} increments a round × ${rounds} rounds, one at a time; from the append's acknowledgement until both projections have written it`,
  );
  console.log(
    `\n${latencyTable('PROJECTION_FLUSH', await readYourWritesInProcess({ writes: rywWrites, rounds }))}\n`,
  );
}

if (!only || only === 'http') {
  console.log(
    `read your writes over HTTP — the fixture app as a process, default settings, a bearer token; ${rywWrites} POST-then-GET a round × ${rounds} rounds; the GET's latency`,
  );
  const latencies = await readYourWritesOverHttp({ writes: rywWrites, rounds });
  console.log(`\n${latencyTable('PROJECTION_FLUSH', latencies)}\n`);
  const p50 = (key: string) =>
    percentile(
      [...(latencies.get(key) ?? [])].sort((a, b) => a - b),
      0.5,
    ).toFixed(2);
  reportFigures([
    {
      figure: 'read-your-writes: GET with x-min-position right after a write, low load, p50',
      value: `${p50('idle')} ms`,
      reference: `timer flush (the old way): ${p50('timer')} ms; the same GET without x-min-position: ${p50('idle, no x-min-position')} ms`,
      goal: '≤ 5 ms',
    },
  ]);
}
