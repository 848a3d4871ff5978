import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { createTransactionLog, type ProposedEvent, writeNodeStartRecords } from './transaction-log.js';

const event = (size = 10): ProposedEvent => ({
  eventId: randomUUID(),
  type: 'E',
  isJson: true,
  data: new Uint8Array(size),
  metadata: new Uint8Array(),
});

const all = () => true;

const startedLog = () => {
  const log = createTransactionLog();
  writeNodeStartRecords(log);
  return log;
};

describe('the transaction log', () => {
  test('lays records end to end: every event starts where the record before it ends, bigger events take more room', () => {
    const log = startedLog();
    const firstUserEvent = log.end;
    expect(firstUserEvent).toBeGreaterThan(0);
    log.append('s', 'any', [event(10), event(500), event(10)]);
    const [a, b, c] = log.stream('s')!;
    expect(a!.position).toBe(firstUserEvent);
    expect(b!.position).toBe(a!.end);
    expect(c!.position).toBe(b!.end);
    expect(b!.end - b!.position).toBe(a!.end - a!.position + 490);
    expect(log.isValidStart(b!.position)).toBe(true);
    expect(log.isValidStart(b!.position + 1)).toBe(false);
    expect(log.isValidStart(log.end)).toBe(true);
  });

  test('a forward page stops at maxCount without saying end of stream; the empty page after it does, and starts where it ends', () => {
    const log = startedLog();
    log.append('s', 'any', [event(), event(), event()]);
    const [, second, third] = log.stream('s')!;
    const from = { commit: second!.position, prepare: second!.position };
    const page = log.readForward(from, 2, 32, all);
    expect(page.events).toEqual([second, third]);
    expect(page).toMatchObject({
      isEndOfStream: false,
      considered: 2,
      nextPos: { commit: third!.end, prepare: 0 },
    });
    const empty = log.readForward(page.nextPos, 2, 32, all);
    expect(empty).toMatchObject({ events: [], isEndOfStream: true, considered: 0, currentPos: page.nextPos });
    expect(empty.nextPos).toEqual(empty.currentPos);
  });

  test('a legacy transaction: one commit position; (commit, 0) reads it all; a page can stop inside it', () => {
    const log = startedLog();
    const [one, two, three] = log.appendLegacyTransaction('t', [event(), event(), event()]);
    expect(new Set([one!.commit, two!.commit, three!.commit]).size).toBe(1);
    expect(one!.commit).toBe(three!.end);
    const page = log.readForward({ commit: one!.commit, prepare: 0 }, 2, 32, all);
    expect(page.events).toEqual([one, two]);
    expect(page.nextPos).toEqual({ commit: one!.commit, prepare: two!.end });
    expect(log.readForward(page.nextPos, 2, 32, all).events).toEqual([three]);
  });

  test('backwards from (p, 0) leaves out the event that ends at p; from (p, p) keeps it', () => {
    const log = startedLog();
    log.append('s', 'any', [event(), event()]);
    const [first, second] = log.stream('s')!;
    const end = second!.position;
    expect([...log.readBackward({ commit: end, prepare: end }, all)][0]).toBe(first);
    expect([...log.readBackward({ commit: end, prepare: 0 }, all)][0]).not.toBe(first);
  });
});
