import { describe, expect, it } from 'vitest';
import { createPreferWait, preferredWait } from './prefer-wait.js';

describe('Prefer: wait', () => {
  it.each([
    ['wait=5', 5],
    ['WAIT=5', 5],
    ['wait = 7', 7],
    ['wait="9"', 9],
    ['respond-async, wait=10', 10],
    ['handling=lenient; x=1, wait=3', 3],
    ['wait=3;foo=bar', 3],
    [['return=minimal', 'wait=4'], 4],
    ['wait=100', 30],
    ['wait=9999999999', 30],
    ['wait=2, wait=8', 2],
  ] as const)('reads %j as %d seconds', (header, seconds) => {
    expect(preferredWait(header as string | string[], 30)).toBe(seconds);
  });

  it.each([
    [undefined],
    [''],
    ['respond-async'],
    ['wait=0'],
    ['wait=soon'],
    ['wait=-1'],
    ['wait=1.5'],
    ['wait'],
    ['wait='],
    ['waiting=5'],
    ['wait=99999999999'],
    ['wait=abc, wait=5'],
  ])('ignores %j', (header) => {
    expect(preferredWait(header, 30)).toBeUndefined();
  });
});

describe('Prefer: wait with a bound on the requests waiting', () => {
  it('grants waits up to the bound, none beyond it, and one again once a slot is released', () => {
    const preferWait = createPreferWait({ maxSeconds: 30, maxWaiters: 2 });
    const first = preferWait('wait=5');
    const second = preferWait('wait=100');
    expect([first?.seconds, second?.seconds]).toEqual([5, 30]);
    expect(preferWait('wait=5')).toBeUndefined();
    first?.release();
    // Released twice, a slot is still freed once.
    first?.release();
    expect(preferWait('wait=7')?.seconds).toBe(7);
    expect(preferWait('wait=7')).toBeUndefined();
  });

  it('takes no slot for a request that prefers no wait', () => {
    const preferWait = createPreferWait({ maxSeconds: 30, maxWaiters: 1 });
    for (const header of [undefined, 'wait=0', 'wait=soon', 'respond-async'])
      expect(preferWait(header)).toBeUndefined();
    expect(preferWait('wait=1')?.seconds).toBe(1);
  });
});
