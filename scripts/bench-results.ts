import { appendFileSync } from 'node:fs';

/**
 * One row of `npm run bench`'s table: a figure, what it was measured against in the same run, and
 * the goal it answers to. The `bench:*` scripts print their own tables; run by `npm run bench`
 * (BENCH_RESULTS names a file) they also hand their headline figures over here.
 */
export type BenchFigure = {
  figure: string;
  value: string;
  /** The reference measured in the same run, and what it is. */
  reference: string;
  goal: string;
};

export const reportFigures = (figures: readonly BenchFigure[]) => {
  const file = process.env.BENCH_RESULTS;
  if (file) appendFileSync(file, `${JSON.stringify(figures)}\n`);
};
