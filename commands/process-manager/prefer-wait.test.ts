import { describe, expect, it } from 'vitest';
import { preferredWait } from './prefer-wait.js';

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
