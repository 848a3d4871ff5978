import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { CheckpointTakenError, checkpointStream } from './checkpoint-stream.js';

describe('checkpoint stream', () => {
  it('loads nothing before the first save', async () => {
    expect(await checkpointStream(createMemoryEventStore(), 'p').load()).toBeUndefined();
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 17, 31, 32, 33])(
    'loads the last of %i saves, however they fill the generations',
    async (saves) => {
      const store = createMemoryEventStore();
      const writer = checkpointStream(store, 'p', { perStream: 3 });
      await writer.load();
      for (let i = 1; i <= saves; i++) await writer.save(BigInt(i * 10));
      expect(await checkpointStream(store, 'p', { perStream: 3 }).load()).toBe(BigInt(saves * 10));
      // A restarted writer carries on where the last one stopped.
      const next = checkpointStream(store, 'p', { perStream: 3 });
      await next.load();
      await next.save(7n);
      expect(await checkpointStream(store, 'p', { perStream: 3 }).load()).toBe(7n);
      const streams = new Set((await store.readAll()).map((e) => e.streamId));
      expect(streams.size).toBe(Math.ceil((saves + 1) / 3));
    },
  );

  it('reads a few short streams to load, not every save ever made', async () => {
    const store = createMemoryEventStore();
    const writer = checkpointStream(store, 'p', { perStream: 4 });
    await writer.load();
    for (let i = 1; i <= 400; i++) await writer.save(BigInt(i));
    let eventsRead = 0;
    const counting = {
      ...store,
      readStream: async (...args: Parameters<typeof store.readStream>) => {
        const events = await store.readStream(...args);
        eventsRead += events.length;
        return events;
      },
    };
    expect(await checkpointStream(counting, 'p', { perStream: 4 }).load()).toBe(400n);
    expect(eventsRead).toBeLessThan(30);
  });

  it('keeps checkpoints of different names apart', async () => {
    const store = createMemoryEventStore();
    const a = checkpointStream(store, 'a');
    const b = checkpointStream(store, 'b');
    await a.load();
    await b.load();
    await a.save(5n);
    await b.save(9n);
    expect(await checkpointStream(store, 'a').load()).toBe(5n);
  });

  it('knows where its last checkpoint event lies in $all, after a save and after a load', async () => {
    const store = createMemoryEventStore();
    const writer = checkpointStream(store, 'p', { perStream: 2 });
    expect(writer.written()).toBeUndefined();
    await writer.load();
    expect(writer.written()).toBeUndefined();
    for (let i = 1; i <= 4; i++) await writer.save(BigInt(i));
    const head = await store.headPosition();
    expect(writer.written()).toBe(head);
    // The last generation is full: the load finds the event in the one before the empty one.
    const reader = checkpointStream(store, 'p', { perStream: 2 });
    expect(await reader.load()).toBe(4n);
    expect(reader.written()).toBe(head);
  });

  it('makes a writer fail when another one has taken the checkpoint over', async () => {
    const store = createMemoryEventStore();
    const first = checkpointStream(store, 'p');
    const second = checkpointStream(store, 'p');
    await first.load();
    await second.load();
    await second.save(1n);
    await expect(first.save(2n)).rejects.toBeInstanceOf(CheckpointTakenError);
  });
});
