import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCommitTracker } from './commit-tracker.js';

describe('commit tracker', () => {
  it('never passes an event that is not done, whatever order they finish in', () => {
    const deliveries = fc
      .uniqueArray(fc.bigInt({ min: 1n, max: 1000n }), { minLength: 1, maxLength: 60 })
      .map((positions) => positions.sort((a, b) => (a < b ? -1 : 1)))
      .chain((positions) =>
        fc
          .shuffledSubarray(positions, { minLength: positions.length, maxLength: positions.length })
          .map((finishOrder) => ({ positions, finishOrder })),
      );
    fc.assert(
      fc.property(deliveries, ({ positions, finishOrder }) => {
        const tracker = createCommitTracker(undefined);
        for (const p of positions) tracker.delivered(p);
        const done = new Set<bigint>();
        for (const p of finishOrder) {
          tracker.done(p);
          done.add(p);
          const firstOpen = positions.findIndex((q) => !done.has(q));
          const donePrefix = firstOpen === -1 ? positions : positions.slice(0, firstOpen);
          expect(tracker.position).toBe(donePrefix.at(-1));
        }
        expect(tracker.pending).toBe(0);
      }),
    );
  });

  it('moves past filtered-out events once everything before them is done', () => {
    const tracker = createCommitTracker(5n);
    tracker.scanned(8n);
    expect(tracker.position).toBe(8n);
    tracker.delivered(10n);
    tracker.scanned(20n);
    expect(tracker.position).toBe(8n);
    tracker.done(10n);
    expect(tracker.position).toBe(20n);
    tracker.scanned(15n);
    expect(tracker.position).toBe(20n);
  });

  it('tells the last delivered event passed apart from positions only scanned', () => {
    const tracker = createCommitTracker(5n);
    tracker.scanned(8n);
    expect(tracker.handled).toBeUndefined();
    tracker.delivered(10n);
    tracker.delivered(12n);
    tracker.scanned(20n);
    tracker.done(12n);
    expect(tracker.handled).toBeUndefined();
    tracker.done(10n);
    expect(tracker.handled).toBe(12n);
    expect(tracker.position).toBe(20n);
    tracker.scanned(30n);
    expect(tracker.handled).toBe(12n);
  });
});
