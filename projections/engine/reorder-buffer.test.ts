import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createReorderBuffer, type Gap } from './reorder-buffer.js';

type Event = { streamId: string; revision: number; copy: number };

/** Streams a..d with 0..n revisions each, starting at `first`, every event delivered 1..3 times. */
const deliveries = (first: number) =>
  fc
    .array(fc.record({ length: fc.integer({ min: 0, max: 25 }), copies: fc.integer({ min: 1, max: 3 }) }), {
      minLength: 1,
      maxLength: 4,
    })
    .chain((streams) => {
      const events: Event[] = streams.flatMap(({ length, copies }, s) =>
        Array.from({ length: length * copies }, (_, i) => ({
          streamId: `s${s}`,
          revision: first + Math.floor(i / copies),
          copy: i % copies,
        })),
      );
      return fc
        .shuffledSubarray(events, { minLength: events.length, maxLength: events.length })
        .map((shuffled) => ({
          streams,
          shuffled,
        }));
    });

const byStream = (events: readonly Event[]) => {
  const out = new Map<string, number[]>();
  for (const e of events) out.set(e.streamId, [...(out.get(e.streamId) ?? []), e.revision]);
  return out;
};

const range = (from: number, length: number) => Array.from({ length }, (_, i) => from + i);

describe('reorder buffer', () => {
  it('turns a shuffled, duplicated delivery into each stream in order, exactly once', () => {
    fc.assert(
      fc.property(deliveries(0), ({ streams, shuffled }) => {
        const buffer = createReorderBuffer<Event>({ maxHeld: 1000, holdTimeoutMs: 1000, maxStreams: 100 });
        const out: Event[] = [];
        const dropped: string[] = [];
        for (const event of shuffled) {
          const { ready, gaps, dropped: why } = buffer.push(event);
          expect(gaps).toEqual([]);
          out.push(...ready);
          if (why) dropped.push(why);
        }
        expect(byStream(out)).toEqual(
          new Map(streams.flatMap((s, i) => (s.length > 0 ? [[`s${i}`, range(0, s.length)]] : []))),
        );
        expect(dropped).toHaveLength(shuffled.length - out.length);
        expect(buffer.held).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('drops what comes before the first revision a stream is known to expect', () => {
    fc.assert(
      fc.property(deliveries(0), fc.integer({ min: 0, max: 10 }), ({ streams, shuffled }, first) => {
        const buffer = createReorderBuffer<Event>({
          maxHeld: 1000,
          holdTimeoutMs: 1000,
          maxStreams: 100,
          firstRevision: () => first,
        });
        const out = shuffled.flatMap((event) => buffer.push(event).ready);
        expect(byStream(out)).toEqual(
          new Map(
            streams.flatMap((s, i) => (s.length > first ? [[`s${i}`, range(first, s.length - first)]] : [])),
          ),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('with little room, still never repeats or reorders, and accounts for every revision it skips', () => {
    fc.assert(
      fc.property(deliveries(0), fc.integer({ min: 0, max: 5 }), ({ streams, shuffled }, maxHeld) => {
        let clock = 0;
        const buffer = createReorderBuffer<Event>({
          maxHeld,
          holdTimeoutMs: 10,
          maxStreams: 100,
          now: () => clock,
        });
        const out: Event[] = [];
        const gaps: Gap[] = [];
        for (const event of shuffled) {
          const pushed = buffer.push(event);
          out.push(...pushed.ready);
          gaps.push(...pushed.gaps);
          expect(buffer.held).toBeLessThanOrEqual(maxHeld);
        }
        clock += 10;
        const expired = buffer.expire();
        out.push(...expired.ready);
        gaps.push(...expired.gaps);
        expect(buffer.held).toBe(0);

        for (const [i, s] of streams.entries()) {
          const streamId = `s${i}`;
          const passed = byStream(out).get(streamId) ?? [];
          for (let k = 1; k < passed.length; k++) expect(passed[k]).toBeGreaterThan(passed[k - 1] as number);
          const skipped = gaps
            .filter((g) => g.streamId === streamId)
            .flatMap((g) => range(g.from, g.to - g.from + 1));
          // Every revision was either passed on or reported skipped, never both.
          expect([...passed, ...skipped].sort((a, b) => a - b)).toEqual(range(0, s.length));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives up a gap that does not fill in time, and drops the straggler when it finally comes', () => {
    let clock = 0;
    const buffer = createReorderBuffer<Event>({
      maxHeld: 10,
      holdTimeoutMs: 100,
      maxStreams: 10,
      now: () => clock,
    });
    const at = (revision: number) => ({ streamId: 's', revision, copy: 0 });
    expect(buffer.push(at(0)).ready).toEqual([at(0)]);
    expect(buffer.push(at(2)).ready).toEqual([]);
    expect(buffer.push(at(3)).ready).toEqual([]);
    expect(buffer.nextExpiry()).toBe(100);
    clock = 99;
    expect(buffer.expire()).toEqual({ ready: [], gaps: [] });
    clock = 100;
    expect(buffer.expire()).toEqual({
      ready: [at(2), at(3)],
      gaps: [{ streamId: 's', from: 1, to: 1, cause: 'timeout' }],
    });
    expect(buffer.nextExpiry()).toBeUndefined();
    expect(buffer.push(at(1))).toEqual({ ready: [], gaps: [], dropped: 'stale' });
    expect(buffer.push(at(4)).ready).toEqual([at(4)]);
  });

  it('forgets the least recently used stream past maxStreams, never one that holds events', () => {
    const buffer = createReorderBuffer<Event>({ maxHeld: 10, holdTimeoutMs: 100, maxStreams: 2 });
    const ev = (streamId: string, revision: number) => ({ streamId, revision, copy: 0 });
    buffer.push(ev('held', 5));
    buffer.push(ev('a', 0));
    buffer.push(ev('b', 0));
    expect(buffer.nextRevision('held')).toBe(0);
    expect(buffer.nextRevision('b')).toBe(1);
    // `a` was forgotten: it starts again at firstRevision.
    expect(buffer.nextRevision('a')).toBe(0);
    expect(buffer.held).toBe(1);
  });
});
