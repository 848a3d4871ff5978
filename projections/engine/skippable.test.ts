import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { EventData } from '../../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { skippableIn } from './skippable.js';

const event = (type: string): EventData => ({
  type,
  data: {},
  metadata: {
    eventId: randomUUID(),
    correlationId: randomUUID(),
    causationId: randomUUID(),
    occurredAt: new Date(0).toISOString(),
    schemaVersion: 1,
  },
});

describe('skippable positions of a projection', () => {
  it('given events it skips then one it reads, when asked, then it answers the last skipped position', async () => {
    const store = createMemoryEventStore();
    const first = await store.append('a-1', [event('Read')], { expectedRevision: 'no_stream' });
    const skipped = await store.append('b-1', [event('Other'), event('Other')], {
      expectedRevision: 'no_stream',
    });
    const read = await store.append('a-1', [event('Read')], { expectedRevision: 0 });
    const skippable = skippableIn(store, new Map([['p', { eventTypes: ['Read'] }]]));
    expect(await skippable('p', first.position)).toBe(skipped.position);
    expect(await skippable('p', skipped.position)).toBeUndefined();
    expect(await skippable('p', read.position)).toBeUndefined(); // nothing after the head
    expect(await skippable('unknown', first.position)).toBeUndefined();
  });

  it('given more skipped events than a page, when asked, then it answers the end of the page', async () => {
    const store = createMemoryEventStore();
    const positions = [];
    for (let i = 0; i < 5; i += 1)
      positions.push(
        (await store.append(`b-${i}`, [event('Other')], { expectedRevision: 'no_stream' })).position,
      );
    const skippable = skippableIn(store, new Map([['p', { streamPrefixes: ['a-'] }]]), 3);
    expect(await skippable('p', undefined)).toBe(positions[2]);
  });
});
