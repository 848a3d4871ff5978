import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventStoreContract } from './event-store.contract.js';
import {
  type EventData,
  type EventStore,
  EventStoreUnavailableError,
  type Position,
  type RecordedEvent,
} from './event-store.js';
import {
  createEventStoreDbEventStore,
  isSystem,
  refuseUnsupportedSettings,
  toEventId,
} from './eventstoredb-event-store.js';
import { exactly } from './eventstoredb-subscription.js';
import { type EsdbTestServer, startEsdbTestServer } from './testing/esdb-test-server/index.js';

/**
 * The EventStoreDB adapter through the real @eventstore/db-client, against the project's wire-level
 * test server (a protocol-level stand-in, not EventStoreDB: see testing/esdb-test-server), or
 * against a real server when EVENTSTORE_URL is set. Tests that need fault hooks (dropping
 * subscriptions, refusing connections, writing old explicit transactions) always use a test server.
 */
const realServer = process.env.EVENTSTORE_URL;
let testServer: EsdbTestServer;
beforeAll(async () => {
  testServer = await startEsdbTestServer();
});
afterAll(async () => {
  await testServer?.stop();
});
const target = () => realServer ?? testServer.url;
const ESDB_EXPIRES_ITSELF =
  'it deletes nothing on request: a node drops events past their $maxAge when it scavenges (setStreamMaxAge)';

describe(realServer ? 'EventStoreDB (EVENTSTORE_URL)' : 'EventStoreDB (wire-level test server)', () => {
  if (realServer)
    eventStoreContract('EventStoreDB', () => createEventStoreDbEventStore(realServer), {
      without: { expireStreams: ESDB_EXPIRES_ITSELF },
    });
  else
    eventStoreContract('EventStoreDB wire-level test server', freshTestServerStore, {
      freshStore: true,
      damage: (store, streamId, revision) =>
        servers
          .get(store)
          ?.faults.alterEventData(streamId, revision, (data) =>
            JSON.parse(JSON.stringify(data).replace('9', '7')),
          ),
      advanceClock: (store, ms) => servers.get(store)?.advanceClock(ms),
      without: { expireStreams: ESDB_EXPIRES_ITSELF },
    });

  it('resumes from every checkpoint it reported: nothing skipped, nothing twice', async () => {
    const store = createEventStoreDbEventStore(target());
    try {
      const ns = `resume-${randomUUID()}`;
      const start = await store.headPosition();
      // Varying sizes give records of varying length; other streams make the filter skip events,
      // so the server sends checkpoints between the events that match.
      for (let i = 0; i < 280; i += 1) {
        const stream = i % 7 === 0 ? `${ns}-a` : `other-${ns}`;
        await store.append(stream, [event('Noted', { pad: 'x'.repeat((i * 37) % 400) })], {
          expectedRevision: 'any',
        });
      }
      const filter = { streamPrefixes: [`${ns}-a`] };
      const all = await store.readAll({ after: start, filter });
      expect(all).toHaveLength(40);

      const checkpoints: Position[] = [];
      await collect(store, { after: start, filter, onCheckpoint: (p) => checkpoints.push(p) }, all.length);
      expect(checkpoints.length).toBeGreaterThan(2);
      for (const checkpoint of checkpoints) {
        const expected = all.filter((e) => e.position > checkpoint).map((e) => e.position);
        const resumed = await collect(store, { after: checkpoint, filter }, expected.length);
        expect(
          resumed.map((e) => e.position),
          `resumed after ${checkpoint}`,
        ).toEqual(expected);
        const read = await store.readAll({ after: checkpoint, filter });
        expect(
          read.map((e) => e.position),
          `read after ${checkpoint}`,
        ).toEqual(expected);
      }
    } finally {
      await store.close();
    }
  });

  it('answers a command within a second after 300 readiness checks (reads left early are cancelled)', async () => {
    const store = createEventStoreDbEventStore(target());
    try {
      const ns = `health-${randomUUID()}`;
      // More than HTTP/2's flow-control window (64 KB) after the head, so an abandoned read stays open.
      const big = { pad: 'y'.repeat(1_000) };
      for (let i = 0; i < 10; i += 1) {
        await store.append(
          `${ns}-${i}`,
          Array.from({ length: 20 }, () => event('Padded', big)),
          {
            expectedRevision: 'no_stream',
          },
        );
      }
      for (let i = 0; i < 300; i += 1) await store.headPosition();
      const stream = `${ns}-after`;
      await expect(
        within(1_000, store.append(stream, [event('Opened')], { expectedRevision: 'no_stream' })),
      ).resolves.toMatchObject({ nextRevision: 0 });
      await expect(within(1_000, store.readStream(stream))).resolves.toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('stores an event whose data is undefined as null instead of crashing inside the client', async () => {
    const store = createEventStoreDbEventStore(target());
    try {
      const stream = `undefined-data-${randomUUID()}`;
      await store.append(stream, [{ ...event('Empty'), data: undefined }], { expectedRevision: 'no_stream' });
      expect((await store.readStream(stream)).map((e) => e.data)).toEqual([null]);
    } finally {
      await store.close();
    }
  });
});

describe('EventStoreDB adapter, against the wire-level test server with faults', () => {
  let store: EventStore;
  beforeAll(() => {
    store = createEventStoreDbEventStore(testServer.url);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('delivers every event once when every subscription is dropped in the middle of catch-up', async () => {
    const ns = `dropped-${randomUUID()}`;
    const start = await store.headPosition();
    for (let i = 0; i < 30; i += 1) {
      await store.append(
        `${ns}-${i}`,
        Array.from({ length: 20 }, () => event('Noted', { i })),
        {
          expectedRevision: 'no_stream',
        },
      );
    }
    const filter = { streamPrefixes: [ns] };
    const expected = (await store.readAll({ after: start, filter })).map((e) => e.position);
    expect(expected).toHaveLength(600);
    let dropped = 0;
    const received = await collect(store, { after: start, filter }, expected.length, async (_, index) => {
      if (index === 150 || index === 400) {
        dropped += 1;
        testServer.faults.dropSubscriptions();
        await new Promise((resolve) => setTimeout(resolve, 20)); // a slow consumer, while it drops
      }
    });
    expect(dropped).toBe(2);
    expect(received.map((e) => e.position)).toEqual(expected);
  });

  it('resumes live after a dropped subscription, from exactly where it was', async () => {
    const ns = `live-drop-${randomUUID()}`;
    const start = await store.headPosition();
    const controller = new AbortController();
    const seen: RecordedEvent[] = [];
    const done = (async () => {
      for await (const e of store.subscribeToAll({
        after: start,
        filter: { streamPrefixes: [ns] },
        signal: controller.signal,
      })) {
        seen.push(e);
      }
    })();
    try {
      await store.append(`${ns}-1`, [event('One')], { expectedRevision: 'no_stream' });
      await until(() => seen.length === 1, 'the first event');
      testServer.faults.dropSubscriptions();
      await store.append(`${ns}-1`, [event('Two'), event('Three')], { expectedRevision: 0 });
      await until(() => seen.length === 3, 'the events after the drop');
      expect(seen.map((e) => e.type)).toEqual(['One', 'Two', 'Three']);
    } finally {
      controller.abort();
      await done;
    }
  });

  it('keeps every event of an old explicit transaction, though they share one commit position', async () => {
    const ns = `legacy-${randomUUID()}`;
    const start = await store.headPosition();
    testServer.faults.appendLegacyTransaction(`${ns}-1`, [
      { type: 'First', data: { n: 1 } },
      { type: 'Second', data: { n: 2 } },
      { type: 'Third', data: { n: 3 } },
    ]);
    await store.append(`${ns}-2`, [event('After')], { expectedRevision: 'no_stream' });
    const filter = { streamPrefixes: [ns] };
    const read = await store.readAll({ after: start, filter });
    expect(read.map((e) => e.type)).toEqual(['First', 'Second', 'Third', 'After']);
    expect(new Set(read.map((e) => e.position)).size).toBe(4);
    const subscribed = await collect(store, { after: start, filter }, 4);
    expect(subscribed.map((e) => e.type)).toEqual(['First', 'Second', 'Third', 'After']);
    // Each of them is a place to resume from.
    for (const [index, e] of read.entries()) {
      const rest = await collect(store, { after: e.position, filter }, read.length - index - 1);
      expect(rest.map((r) => r.type)).toEqual(read.slice(index + 1).map((r) => r.type));
    }
    expect((await store.readStream(`${ns}-1`)).map((e) => e.revision)).toEqual([0, 1, 2]);
  });

  it('throws EventStoreUnavailableError while the server refuses connections, and works again after', async () => {
    const stream = `refused-${randomUUID()}`;
    await store.append(stream, [event('Opened')], { expectedRevision: 'no_stream' });
    const refusing = testServer.faults.refuseConnections(1_500);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(store.append(stream, [event('Noted')], { expectedRevision: 0 })).rejects.toBeInstanceOf(
      EventStoreUnavailableError,
    );
    await refusing;
    // The client replaces its channel after UNAVAILABLE; the first calls may meet the old one.
    let result: unknown;
    for (let attempt = 0; attempt < 20 && result === undefined; attempt += 1) {
      try {
        result = await store.append(stream, [event('Noted')], { expectedRevision: 0 });
      } catch (error) {
        expect(error).toBeInstanceOf(EventStoreUnavailableError);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect(result).toMatchObject({ nextRevision: 1 });
  });

  it('ends a subscription on abort and leaves no call open', async () => {
    const before = testServer.openCalls();
    const controller = new AbortController();
    const done = (async () => {
      for await (const _ of store.subscribeToAll({ signal: controller.signal })) {
        // caught up with whatever is there, then live
      }
    })();
    await until(() => testServer.openCalls() > before, 'the subscription to open');
    controller.abort();
    await done;
    await until(() => testServer.openCalls() === before, 'the call to end');
  });

  it('throws a failure that is not transient to the consumer instead of retrying it', async () => {
    // Not a record boundary of this log: the server refuses the start (INVALID_ARGUMENT).
    const { position } = await store.append(`invalid-${randomUUID()}`, [event('Opened')], {
      expectedRevision: 'no_stream',
    });
    const between = position + (1n << 64n) + 1n; // commit and prepare one byte into the record
    await expect(collect(store, { after: between }, 1)).rejects.toThrow(/invalid position/i);
  });

  it('delivers the next event after a checkpoint at the end of the log (KurrentDB 25.0.0, issue #4970)', async () => {
    const server = await startEsdbTestServer({ issue4970: true });
    const buggy = createEventStoreDbEventStore(server.url);
    try {
      const ns = `i4970-${randomUUID()}`;
      for (let i = 0; i < 40; i += 1)
        await buggy.append(`other-${ns}-${i}`, [event('Noted')], { expectedRevision: 'no_stream' });
      const checkpoints: Position[] = [];
      const controller = new AbortController();
      const seen: RecordedEvent[] = [];
      const filter = { streamPrefixes: [`${ns}-a`] };
      const done = (async () => {
        for await (const e of buggy.subscribeToAll({
          filter,
          signal: controller.signal,
          onCheckpoint: (p) => checkpoints.push(p),
        }))
          seen.push(e);
      })();
      await until(() => checkpoints.length > 0, 'a checkpoint');
      await new Promise((resolve) => setTimeout(resolve, 50)); // the end-of-catch-up one
      const last = checkpoints.at(-1) as Position;
      const appended = await buggy.append(`${ns}-a`, [event('Next')], { expectedRevision: 'no_stream' });
      await until(() => seen.length === 1, 'the next event');
      controller.abort();
      await done;
      expect(seen[0]?.position).toBe(appended.position);
      // And a consumer that stored that checkpoint finds the event when it resumes.
      expect((await collect(buggy, { after: last, filter }, 1)).map((e) => e.type)).toEqual(['Next']);
    } finally {
      await buggy.close();
      await server.stop();
    }
  });

  it('skips system events in reads, subscriptions and the head', async () => {
    const ns = `system-${randomUUID()}`;
    const start = await store.headPosition();
    await store.append(`${ns}-1`, [event('Ours')], { expectedRevision: 'no_stream' });
    testServer.faults.appendSystemEvent();
    const head = await store.headPosition();
    const ours = await store.readAll({ after: start });
    expect(ours.every((e) => !isSystem(e.type, e.streamId))).toBe(true);
    expect(head).toBe(ours.at(-1)?.position);
  });
});

describe('EventStoreDB adapter, without a server', () => {
  it('refuses throwOnAppendFailure=false, which would turn a conflict into a plain error', () => {
    for (const url of [
      'esdb://localhost:2113?tls=false&throwOnAppendFailure=false',
      'esdb://localhost:2113?ThrowOnAppendFailure=false',
      'esdb://localhost:2113?tls=false&throw-on-append-failure=false&keepAliveInterval=10',
    ]) {
      expect(() => refuseUnsupportedSettings(url), url).toThrow(/throwOnAppendFailure=false/);
      expect(() => createEventStoreDbEventStore(url), url).toThrow(/throwOnAppendFailure=false/);
    }
    expect(() => refuseUnsupportedSettings('esdb://localhost:2113?throwOnAppendFailure=true')).not.toThrow();
  });

  it('builds a server filter regex that matches exactly the given event types', () => {
    const regex = new RegExp(exactly(['Account.Opened', 'a+b', 'x|y', '(c)']));
    for (const type of ['Account.Opened', 'a+b', 'x|y', '(c)']) expect(regex.test(type)).toBe(true);
    for (const type of ['AccountXOpened', 'Account.Opened2', 'aab', 'x', 'c', 'Account.Opene']) {
      expect(regex.test(type), type).toBe(false);
    }
  });

  it('uses a UUID event id as is and derives a stable UUID from any other', () => {
    const uuid = randomUUID();
    expect(toEventId(uuid)).toBe(uuid);
    const derived = toEventId('deposit-42#1');
    expect(derived).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(toEventId('deposit-42#1')).toBe(derived);
    expect(toEventId('deposit-42#2')).not.toBe(derived);
  });

  it('treats $-prefixed types and streams as system events', () => {
    expect(isSystem('$metadata', 'account-1')).toBe(true);
    expect(isSystem('Opened', '$$account-1')).toBe(true);
    expect(isSystem('Opened', 'account-$1')).toBe(false);
  });
});

/** A new test server per store, so the contract's tests that need an empty log run too. */
const servers = new WeakMap<object, EsdbTestServer>();
const freshTestServerStore = async (): Promise<EventStore> => {
  const server = await startEsdbTestServer();
  const store = createEventStoreDbEventStore(server.url);
  const fresh = {
    ...store,
    async close() {
      await store.close();
      await server.stop();
    },
  };
  servers.set(fresh, server);
  return fresh;
};

const event = (type: string, data: unknown = { at: Date.now() }): EventData => ({
  type,
  data,
  metadata: {
    eventId: randomUUID(),
    correlationId: randomUUID(),
    causationId: randomUUID(),
    occurredAt: new Date().toISOString(),
    schemaVersion: 1,
  },
});

/** Subscribes until `count` events arrived; fails if the subscription throws or takes too long. */
const collect = async (
  store: EventStore,
  options: {
    after?: Position;
    filter?: { streamPrefixes?: string[]; eventTypes?: string[] };
    onCheckpoint?: (p: Position) => void;
  },
  count: number,
  onEvent?: (e: RecordedEvent, index: number) => Promise<void> | void,
): Promise<RecordedEvent[]> => {
  const controller = new AbortController();
  const events: RecordedEvent[] = [];
  if (count === 0) return events;
  const timer = setTimeout(() => controller.abort(), 15_000);
  try {
    for await (const e of store.subscribeToAll({ ...options, signal: controller.signal })) {
      events.push(e);
      await onEvent?.(e, events.length - 1);
      if (events.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
  }
  if (events.length < count) throw new Error(`subscription gave ${events.length} of ${count} events`);
  return events;
};

const within = <T>(ms: number, promise: Promise<T>): Promise<T> =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)),
  ]);

const until = async (ready: () => boolean, what: string) => {
  const deadline = Date.now() + 10_000;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};
