/**
 * npm run bench [-- --size N] — every figure of the performance table in one run: each `bench:*`
 * script in turn, in a process of its own (its own table printed as it goes), then one table of
 * the headline figures, each next to the reference its script measured in the same run.
 *
 * --size: events (and documents) for the figures that depend on the log's length: the restart, the
 * transactions query, the projections' catch-up. Default 200,000, a few minutes on two cores;
 * --size 1000000 reproduces the 1M-event figures (the logs are filled straight through the store
 * or the pipeline, not HTTP, to keep it quick).
 *
 * Exit code 1 when a script failed (the others still run), 2 on bad arguments.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchFigure } from './bench-results.js';
import { formatTable } from './bench-table.js';

const usage = 'usage: npm run bench [-- --size N (10000-10000000)]';
const args = process.argv.slice(2);
let size = 200_000;
if (args.length > 0) {
  const value = Number(args[1]);
  if (
    args[0] !== '--size' ||
    args.length !== 2 ||
    !Number.isInteger(value) ||
    value < 10_000 ||
    value > 10_000_000
  ) {
    console.error(usage);
    process.exit(2);
  }
  size = value;
}

const root = fileURLToPath(new URL('..', import.meta.url));
const results = join(mkdtempSync(join(tmpdir(), 'eventfold-bench-')), 'figures.jsonl');

/** The scripts, in the order they run, with what makes each one measure at `size`. */
const scripts: { script: string; args?: string[]; env?: Record<string, string> }[] = [
  { script: 'bench-read.ts' },
  { script: 'bench-projections.ts', env: { BENCH_EVENTS: String(Math.min(size, 1_000_000)) } },
  { script: 'bench-restart.ts', env: { BENCH_EVENTS: String(size) } },
  { script: 'bench-read-store.ts', args: ['--documents', String(size)] },
  { script: 'bench-write-http.ts' },
  { script: 'bench-memory.ts', env: { BENCH_EVENTS: String(size) } },
  { script: 'bench-write.ts' },
];

const failed: string[] = [];
for (const { script, args: scriptArgs = [], env = {} } of scripts) {
  console.log(`\n── ${script} ${'─'.repeat(Math.max(0, 70 - script.length))}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join('scripts', script), ...scriptArgs], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env, BENCH_RESULTS: results },
  });
  if (run.status !== 0) failed.push(`${script} (exit ${run.status ?? run.signal})`);
}

let figures: BenchFigure[] = [];
try {
  figures = readFileSync(results, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => JSON.parse(line) as BenchFigure[]);
} catch {
  // No script reported a figure: the table says so below.
}
rmSync(join(results, '..'), { recursive: true, force: true });

console.log(`\nnpm run bench — size ${size.toLocaleString('en')}, node ${process.version}\n`);
console.log(
  formatTable(
    ['figure', 'measured', 'reference, same run', 'goal'],
    figures.map(({ figure, value, reference, goal }) => [figure, value, reference, goal]),
  ),
);
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
