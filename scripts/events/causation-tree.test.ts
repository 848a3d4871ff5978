import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../infra/event-store/event-store.js';
import { causationTree, renderCausationTree } from './causation-tree.js';

let position = 0n;
const event = (eventId: string, causationId: string, extra: Record<string, unknown> = {}): RecordedEvent => ({
  streamId: `s-${eventId}`,
  revision: 0,
  position: ++position,
  type: `T${eventId}`,
  data: { id: eventId },
  metadata: {
    eventId,
    correlationId: 'req',
    causationId,
    occurredAt: '2025-01-01T00:00:00.000Z',
    schemaVersion: 1,
    ...extra,
  },
});

/** [depth, eventId] per event, depth-first as drawn. */
const shape = (roots: ReturnType<typeof causationTree>) => {
  const out: Array<[string | undefined, number, string]> = [];
  const walk = (
    root: string | undefined,
    nodes: ReturnType<typeof causationTree>[number]['children'],
    depth: number,
  ) => {
    for (const node of nodes) {
      out.push([root, depth, node.event.metadata.eventId]);
      walk(root, node.children, depth + 1);
    }
  };
  for (const root of roots) walk(root.causationId, root.children, 0);
  return out;
};

describe('causationTree', () => {
  it('hangs each event under the event that caused it, branches in log order, and roots under outside causes', () => {
    position = 0n;
    const events = [
      event('a', 'req'),
      event('b', 'a'),
      event('c', 'a'),
      event('x', 'other-request'),
      event('d', 'b'),
      event('e', 'c'),
    ];
    expect(shape(causationTree([...events].reverse()))).toEqual([
      ['req', 0, 'a'],
      ['req', 1, 'b'],
      ['req', 2, 'd'],
      ['req', 1, 'c'],
      ['req', 2, 'e'],
      ['other-request', 0, 'x'],
    ]);
  });

  it('takes a cause only from earlier in the log, so ids naming a later event or themselves make no cycle', () => {
    position = 0n;
    const events = [event('a', 'b'), event('b', 'a'), event('c', 'c')];
    expect(shape(causationTree(events))).toEqual([
      ['b', 0, 'a'],
      ['b', 1, 'b'],
      ['c', 0, 'c'],
    ]);
  });

  it('draws the tree with each event’s other metadata (one it does not know of too) and data, the request at the top', () => {
    position = 0n;
    const events = [
      event('a', 'req'),
      event('b', 'a', { origin: { id: 'u1' } }),
      event('c', 'a'),
      event('d', 'c'),
    ];
    expect(renderCausationTree(causationTree(events), 'req')).toEqual([
      'request req',
      '└─ @1 s-a #0 Ta v1 2025-01-01T00:00:00.000Z',
      '   │  eventId=a',
      '   │  data {"id":"a"}',
      '   ├─ @2 s-b #0 Tb v1 2025-01-01T00:00:00.000Z',
      '   │     eventId=b  origin={"id":"u1"}',
      '   │     data {"id":"b"}',
      '   └─ @3 s-c #0 Tc v1 2025-01-01T00:00:00.000Z',
      '      │  eventId=c',
      '      │  data {"id":"c"}',
      '      └─ @4 s-d #0 Td v1 2025-01-01T00:00:00.000Z',
      '            eventId=d',
      '            data {"id":"d"}',
    ]);
  });
});
