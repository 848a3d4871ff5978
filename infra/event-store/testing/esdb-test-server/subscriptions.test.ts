import {
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  EventStoreDBClient,
  jsonEvent,
  type Position,
  START,
  streamNameFilter,
} from '@eventstore/db-client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type EsdbTestServer, startEsdbTestServer } from './index.js';

// 100 events U0..U99, of which only U3 and U70 are in a `match-` stream: a filtered subscription
// sees two events and learns how far it got from the checkpoints alone.

let server: EsdbTestServer;
let client: EventStoreDBClient;
let u: Position[];

const MATCHES = [3, 70];

beforeAll(async () => {
  server = await startEsdbTestServer();
  client = EventStoreDBClient.connectionString(server.url);
  for (let i = 0; i < 100; i++) {
    const stream = MATCHES.includes(i) ? 'match-a' : 'other-a';
    await client.appendToStream(stream, jsonEvent({ type: 'Numbered', data: { i } }));
  }
  const positions: Position[] = [];
  for await (const { event } of client.readAll({ fromPosition: START })) {
    if (event?.type === 'Numbered') positions.push(event.position!);
  }
  u = positions;
});

afterAll(async () => {
  await client.dispose();
  await server.stop();
});

type Item = { event: number | string } | { checkpoint: Position } | 'caughtUp';

/** A filtered subscription as a timeline of events (their `i`), checkpoints and caught-up, in arrival order. */
const subscribe = (
  from: Position,
  options: { maxSearchWindow?: number; checkpointInterval?: number } = {},
  on = client,
) => {
  const subscription: AllStreamSubscription = on.subscribeToAll({
    fromPosition: from,
    filter: streamNameFilter({
      prefixes: ['match-'],
      ...options,
      // Pushed into the stream itself, so it stays in order with the events (as the adapter does).
      checkpointReached: (sub, checkpoint) => {
        sub.push({ checkpoint });
      },
    }),
  });
  subscription.on('caughtUp', () => subscription.push('caughtUp'));
  const iterator = subscription[Symbol.asyncIterator]();
  return {
    async take(count: number): Promise<Item[]> {
      const items: Item[] = [];
      while (items.length < count) {
        const { value } = await iterator.next();
        const item = value as AllStreamResolvedEvent | { checkpoint: Position } | 'caughtUp';
        items.push(
          item === 'caughtUp' || 'checkpoint' in item
            ? item
            : { event: (item.event!.data as { i?: number }).i ?? item.event!.streamId },
        );
      }
      return items;
    },
    async untilEventOrCaughtUp(): Promise<Item[]> {
      const items: Item[] = [];
      for (;;) {
        const [item] = await this.take(1);
        items.push(item!);
        if (item === 'caughtUp' || 'event' in item!) return items;
      }
    },
    close: () => subscription.unsubscribe(),
  };
};

const pageStart = (position: Position): Position => ({ commit: position.commit, prepare: 0n });

test('checkpoints every 32 events looked at, at the later of the last event sent and the page start; one at the end of catch-up; then live ones', async () => {
  const subscription = subscribe(u[0]!);
  expect(await subscription.take(7)).toEqual([
    { event: 3 },
    { checkpoint: u[3] }, // U0..U31 looked at: the last event sent is later than the page start U0
    { checkpoint: pageStart(u[32]!) }, // U32..U63: nothing sent, the page start (prepare 0) is the later
    { event: 70 },
    { checkpoint: u[70] }, // U64..U95
    { checkpoint: pageStart(u[96]!) }, // U96..U99 and the end of the log
    'caughtUp',
  ]);

  // Live: every 32nd event committed since subscribing is a checkpoint, matching or not.
  const live: Position[] = [];
  for (let i = 0; i < 40; i++) {
    const stream = i === 10 ? 'match-b' : 'other-b';
    const { position } = await client.appendToStream(stream, jsonEvent({ type: 'Live', data: { live: i } }));
    live.push(position!);
  }
  expect(await subscription.take(2)).toEqual([{ event: 'match-b' }, { checkpoint: live[31] }]);
  await subscription.close();

  // Every checkpoint is a valid start: resubscribing from one goes on with the first match after it
  // (after checkpoints, the first of which may be the start position itself).
  const resumed: Array<[Position, Item]> = [
    [u[3]!, { event: 70 }],
    [pageStart(u[32]!), { event: 70 }],
    [u[70]!, { event: 'match-b' }],
    [pageStart(u[96]!), { event: 'match-b' }],
    [live[31]!, 'caughtUp'],
  ];
  for (const [from, expected] of resumed) {
    const again = subscribe(from);
    const items = await again.untilEventOrCaughtUp();
    expect(items.at(-1)).toEqual(expected);
    for (const item of items.slice(0, -1)) {
      expect(item).toHaveProperty('checkpoint');
      if (typeof item === 'object' && 'checkpoint' in item)
        expect(item.checkpoint.commit).toBeGreaterThanOrEqual(from.commit);
    }
    await again.close();
  }
});

test("the client's window and checkpoint multiplier: a page looks at `window` events, a checkpoint every window x multiplier", async () => {
  const subscription = subscribe(u[0]!, { maxSearchWindow: 10, checkpointInterval: 2 });
  expect(await subscription.take(7)).toEqual([
    { event: 3 },
    { checkpoint: pageStart(u[10]!) }, // after U0..U19
    { checkpoint: pageStart(u[30]!) }, // after U20..U39
    { checkpoint: pageStart(u[50]!) }, // after U40..U59
    { event: 70 },
    { checkpoint: u[70] }, // after U60..U79, U70 in the page starting there
    { checkpoint: pageStart(u[90]!) }, // after U80..U99
  ]);
  await subscription.close();
});

test('issue4970: as KurrentDB 25.0.0 did, the end-of-catch-up checkpoint can be the end of the log, where the next event goes', async () => {
  const timelines: Array<{ timeline: Item[]; first: Position; next: Position }> = [];
  for (const issue4970 of [false, true]) {
    const other = await startEsdbTestServer({ issue4970 });
    const otherClient = EventStoreDBClient.connectionString(other.url);
    // 32 events from the start position: one full page, then an empty one at the end of the log.
    const { position: first } = await otherClient.appendToStream(
      'other-c',
      jsonEvent({ type: 'E', data: {} }),
    );
    await otherClient.appendToStream(
      'other-c',
      Array.from({ length: 31 }, () => jsonEvent({ type: 'E', data: {} })),
    );
    const subscription = subscribe(first!, {}, otherClient);
    const timeline = await subscription.untilEventOrCaughtUp();
    await subscription.close();
    const { position: next } = await otherClient.appendToStream(
      'other-c',
      jsonEvent({ type: 'E', data: {} }),
    );
    timelines.push({ timeline, first: first!, next: next! });
    await otherClient.dispose();
    await other.stop();
  }
  const [fixed, emulated] = timelines;
  expect(fixed!.timeline).toEqual([{ checkpoint: fixed!.first }, 'caughtUp']);
  expect(emulated!.timeline).toEqual([
    { checkpoint: emulated!.first },
    { checkpoint: { commit: emulated!.next.commit, prepare: 0n } },
    'caughtUp',
  ]);
});

test('stream subscriptions: from a revision, the events after it, caught up, then live', async () => {
  await client.appendToStream('solo', [
    jsonEvent({ type: 'A', data: {} }),
    jsonEvent({ type: 'B', data: {} }),
  ]);
  const subscription = client.subscribeToStream('solo', { fromRevision: 0n });
  subscription.on('caughtUp', () => subscription.push('caughtUp'));
  const seen: string[] = [];
  for await (const item of subscription as AsyncIterable<
    { event?: { type: string; revision: bigint } } | 'caughtUp'
  >) {
    if (item === 'caughtUp') {
      seen.push(item);
      await client.appendToStream('solo', jsonEvent({ type: 'C', data: {} }));
      continue;
    }
    seen.push(`${item.event!.type}@${item.event!.revision}`);
    if (item.event!.type === 'C') break;
  }
  await subscription.unsubscribe();
  expect(seen).toEqual(['B@1', 'caughtUp', 'C@2']);
});
