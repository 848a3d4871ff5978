import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventHistory, eventVersions, UnknownEventVersionError } from '../../domain/shared/event-versions.js';
import { CounterEvent, counterAggregate } from '../../domain/shared/testing/counter.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { createCommandHandler } from './handle-command.js';

/**
 * The pipeline with an aggregate whose event changed shape: it writes each type at its own
 * version, and folds a stream an older release wrote. The fixture: the counter, whose
 * `Incremented` once called its amount `count` (version 1).
 */
const Incremented = CounterEvent.options[1];
const IncrementedV1 = z.object({
  type: z.literal('Incremented'),
  data: z.object({ counterId: z.string(), count: z.number().int().positive(), total: z.number().int() }),
});
const versioned = {
  ...counterAggregate,
  ...eventVersions(CounterEvent, [
    eventHistory(IncrementedV1).to(Incremented, ({ count, ...v1 }) => ({ ...v1, amount: count })),
  ]),
};

const metadata = (schemaVersion: number) => ({
  eventId: randomUUID(),
  correlationId: 'old',
  causationId: 'old',
  occurredAt: new Date(0).toISOString(),
  schemaVersion,
});
const context = { correlationId: 'c', causationId: 'c' };

/** A counter as an older release left it: opened, then incremented by 5 (version 1: `count`). */
const olderRelease = async () => {
  const store = createMemoryEventStore();
  await store.append(
    'counter-ada',
    [
      { type: 'CounterOpened', data: { counterId: 'ada', owner: 'Ada' }, metadata: metadata(1) },
      { type: 'Incremented', data: { counterId: 'ada', count: 5, total: 5 }, metadata: metadata(1) },
    ],
    { expectedRevision: 'no_stream' },
  );
  return store;
};

describe('command pipeline: event versions', () => {
  it('folds version 1 events as the current version: the rules see the total they left', async () => {
    const store = await olderRelease();
    const handle = createCommandHandler({ eventStore: store, maxRetries: 0 });
    await expect(
      handle(versioned, 'ada', { type: 'Decrement', counterId: 'ada', amount: 6 }, context),
    ).rejects.toThrow(/total 5 is less than 6/);
    await handle(versioned, 'ada', { type: 'Decrement', counterId: 'ada', amount: 5 }, context);
    const events = await store.readStream('counter-ada');
    expect(events.at(-1)?.data).toMatchObject({ amount: 5, total: 0 });
    // The stored event is never rewritten.
    expect(events[1]?.data).toEqual({ counterId: 'ada', count: 5, total: 5 });
  });

  it('writes each event at its type’s current version', async () => {
    const store = await olderRelease();
    const handle = createCommandHandler({ eventStore: store, maxRetries: 0 });
    await handle(versioned, 'ada', { type: 'Increment', counterId: 'ada', amount: 1 }, context);
    await handle(versioned, 'ada', { type: 'Decrement', counterId: 'ada', amount: 1 }, context);
    const written = (await store.readStream('counter-ada', { fromRevision: 2 })).map((e) => [
      e.type,
      e.metadata.schemaVersion,
    ]);
    expect(written).toEqual([
      ['Incremented', 2],
      ['Decremented', 1],
    ]);
    // …and what it wrote at version 2 reads back as it was decided (a fresh handler, nothing cached).
    const fresh = createCommandHandler({ eventStore: store, maxRetries: 0 });
    await fresh(versioned, 'ada', { type: 'Decrement', counterId: 'ada', amount: 5 }, context);
    expect((await store.readStream('counter-ada')).at(-1)?.data).toMatchObject({ total: 0 });
  });

  it('an aggregate without versions writes version 1', async () => {
    const store = createMemoryEventStore();
    const handle = createCommandHandler({ eventStore: store, maxRetries: 0 });
    await handle(counterAggregate, 'bo', { type: 'OpenCounter', counterId: 'bo', owner: 'Bo' }, context);
    expect((await store.readStream('counter-bo'))[0]?.metadata.schemaVersion).toBe(1);
  });

  it('a stream holding a version newer than the code: a clear error, nothing appended', async () => {
    const store = await olderRelease();
    await store.append(
      'counter-ada',
      [
        {
          type: 'Incremented',
          data: { counterId: 'ada', amount: 1, total: 6, by: 'x' },
          metadata: metadata(3),
        },
      ],
      { expectedRevision: 1 },
    );
    const handle = createCommandHandler({ eventStore: store, maxRetries: 0 });
    const decrement = handle(versioned, 'ada', { type: 'Decrement', counterId: 'ada', amount: 1 }, context);
    await expect(decrement).rejects.toThrow(UnknownEventVersionError);
    await expect(decrement).rejects.toThrow(/Incremented \(stream counter-ada, revision 2\) is version 3/);
    expect(await store.readStream('counter-ada')).toHaveLength(3);
  });
});
