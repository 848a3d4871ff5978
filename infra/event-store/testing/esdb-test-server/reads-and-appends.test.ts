import {
  type AllStreamResolvedEvent,
  BACKWARDS,
  END,
  EventStoreDBClient,
  excludeSystemEvents,
  jsonEvent,
  NO_STREAM,
  type Position,
  StreamNotFoundError,
  UnknownError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type EsdbTestServer, startEsdbTestServer } from './index.js';

let server: EsdbTestServer;
let client: EventStoreDBClient;

beforeAll(async () => {
  server = await startEsdbTestServer();
  client = EventStoreDBClient.connectionString(server.url);
});

afterAll(async () => {
  await client.dispose();
  await server.stop();
});

const collect = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
  const collected: T[] = [];
  for await (const item of items) collected.push(item);
  return collected;
};

const positionsOf = (events: AllStreamResolvedEvent[]) => events.map(({ event }) => event!.position);

const at = (position: bigint): Position => ({ commit: position, prepare: position });

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );

describe('positions', () => {
  test('are record starts, unevenly spaced, and a forward read from one starts with its event', async () => {
    const sizes = [1, 40, 7, 300, 2];
    const { position: last } = await client.appendToStream(
      'sized',
      sizes.map((size) => jsonEvent({ type: 'Sized', data: { text: 'x'.repeat(size) } })),
    );
    const all = await collect(client.readAll());
    const positions = positionsOf(all).map((position) => position!.commit);
    expect(positions[0]).toBeGreaterThan(0n);
    expect(positions.at(-1)).toBe(last!.commit);
    const gaps = positions.slice(1).map((position, i) => position - positions[i]!);
    expect(new Set(gaps).size).toBeGreaterThan(3);
    for (const { event } of all) expect(event!.position!.prepare).toBe(event!.position!.commit);

    const sized = all.filter(({ event }) => event!.streamId === 'sized');
    for (const { event } of sized) {
      const [first] = await collect(client.readAll({ fromPosition: event!.position!, maxCount: 1 }));
      expect(first!.event!.id).toBe(event!.id);
    }
    // Backwards from an event's position: the events before it, not it.
    const third = sized[2]!.event!;
    const before = await collect(
      client.readAll({ fromPosition: third.position!, direction: BACKWARDS, maxCount: 2 }),
    );
    expect(before.map(({ event }) => event!.id)).toEqual([sized[1]!.event!.id, sized[0]!.event!.id]);
  });

  test('anywhere else, a read fails with UNKNOWN and a subscription with INVALID_ARGUMENT: both UnknownError for the client', async () => {
    const { position } = await client.appendToStream('inside', jsonEvent({ type: 'Any', data: {} }));
    const inside = at(position!.commit + 1n);

    const read = await failure(collect(client.readAll({ fromPosition: inside, maxCount: 1 })));
    expect(read).toBeInstanceOf(UnknownError);
    expect(read).toMatchObject({ code: 2, message: expect.stringContaining('InvalidPosition') });

    const subscription = await failure(
      collect(client.subscribeToAll({ fromPosition: inside, filter: excludeSystemEvents() })),
    );
    expect(subscription).toBeInstanceOf(UnknownError);
    expect(subscription).toMatchObject({
      code: 3,
      message: '3 INVALID_ARGUMENT: Trying to read from an invalid position.',
    });
  });

  test('the end of the log is a valid start; reading from it finds nothing', async () => {
    const [last] = await collect(client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1 }));
    const { position } = await client.appendToStream('ending', jsonEvent({ type: 'Any', data: {} }));
    // The append went where the log ended; from there a read finds the new event first.
    const [next] = await collect(client.readAll({ fromPosition: position!, maxCount: 1 }));
    expect(next!.event!.streamId).toBe('ending');
    expect(position!.commit).toBeGreaterThan(last!.event!.position!.commit);
    expect(await collect(client.readAll({ fromPosition: END }))).toEqual([]);
  });
});

describe('appends', () => {
  test('a wrong expected revision is a WrongExpectedVersionError with the actual revision', async () => {
    await client.appendToStream('expecting', jsonEvent({ type: 'First', data: {} }), {
      expectedRevision: NO_STREAM,
    });
    const stale = await failure(
      client.appendToStream('expecting', jsonEvent({ type: 'Second', data: {} }), { expectedRevision: 5n }),
    );
    expect(stale).toBeInstanceOf(WrongExpectedVersionError);
    expect(stale).toMatchObject({ expectedVersion: 5n, actualVersion: 0n });
    const missing = await failure(
      client.appendToStream('never-written', jsonEvent({ type: 'First', data: {} }), {
        expectedRevision: 0n,
      }),
    );
    expect(missing).toMatchObject({ actualVersion: 'no_stream' });
  });

  test('Append (without BatchAppend in the server features) answers the same way', async () => {
    const old = await startEsdbTestServer({ batchAppend: false });
    const oldClient = EventStoreDBClient.connectionString(old.url);
    try {
      const { nextExpectedRevision } = await oldClient.appendToStream('s', [
        jsonEvent({ type: 'A', data: {} }),
        jsonEvent({ type: 'B', data: {} }),
      ]);
      expect(nextExpectedRevision).toBe(1n);
      const stale = await failure(
        oldClient.appendToStream('s', jsonEvent({ type: 'C', data: {} }), { expectedRevision: NO_STREAM }),
      );
      expect(stale).toMatchObject({ expectedVersion: 'no_stream', actualVersion: 1n });
    } finally {
      await oldClient.dispose();
      await old.stop();
    }
  });

  test('retrying the same event ids answers where they were written, writing nothing twice', async () => {
    const events = [jsonEvent({ type: 'A', data: {} }), jsonEvent({ type: 'B', data: {} })];
    const first = await client.appendToStream('retried', events, { expectedRevision: NO_STREAM });
    const again = await client.appendToStream('retried', events, { expectedRevision: NO_STREAM });
    expect(again).toEqual(first);
    expect(await collect(client.readStream('retried'))).toHaveLength(2);
  });
});

describe('stream reads', () => {
  test('a missing stream is a StreamNotFoundError', async () => {
    const error = await failure(collect(client.readStream('nowhere')));
    expect(error).toBeInstanceOf(StreamNotFoundError);
  });

  test('carry positions, ids, revisions and `created`', async () => {
    const event = jsonEvent({ type: 'Dated', data: { n: 1 }, metadata: { m: 2 } });
    const before = Date.now();
    const { position } = await client.appendToStream('dated', event);
    const [read] = await collect(
      client.readStream('dated', { fromRevision: END, direction: BACKWARDS, maxCount: 1 }),
    );
    expect(read!.event).toMatchObject({
      id: event.id,
      type: 'Dated',
      revision: 0n,
      data: { n: 1 },
      metadata: { m: 2 },
      position,
    });
    expect(read!.event!.created.getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(read!.event!.created.getTime()).toBeLessThanOrEqual(Date.now());
  });
});

describe('faults written into the log', () => {
  test('a legacy transaction: one commit position, distinct prepare positions; unknown positions in its stream', async () => {
    server.faults.appendLegacyTransaction('legacy', [
      { type: 'One', data: { n: 1 } },
      { type: 'Two', data: { n: 2 } },
    ]);
    const all = (await collect(client.readAll())).filter(({ event }) => event!.streamId === 'legacy');
    const [one, two] = positionsOf(all);
    expect(one!.commit).toBe(two!.commit);
    expect(one!.prepare).toBeLessThan(two!.prepare);
    expect(one!.commit).toBeGreaterThan(two!.prepare);
    // Reading from (commit, 0) includes the whole transaction; from the first event's position, both too.
    const fromCommit = await collect(client.readAll({ fromPosition: { commit: one!.commit, prepare: 0n } }));
    expect(fromCommit.slice(0, 2).map(({ event }) => event!.type)).toEqual(['One', 'Two']);
    // Where a stream read cannot tell the commit, the server sends ulong.MaxValue.
    const [fromStream] = await collect(client.readStream('legacy', { maxCount: 1 }));
    expect(fromStream!.event!.position).toEqual({ commit: 2n ** 64n - 1n, prepare: 2n ** 64n - 1n });
    expect(fromStream!.commitPosition).toBeUndefined();
  });

  test('a system event: `$` type in a `$` stream, in `$all`', async () => {
    server.faults.appendSystemEvent();
    const [last] = await collect(client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1 }));
    expect(last!.event!.type).toBe('$statsCollected');
    expect(last!.event!.streamId).toMatch(/^\$stats-/);
  });
});
