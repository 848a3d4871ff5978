import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { AccessDeniedError, EventStoreDBClient, UnavailableError } from '@eventstore/db-client';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import { describe, expect, it } from 'vitest';
import type { Position, SubscribeOptions } from './event-store.js';
import { createEventStoreDbEventStore } from './eventstoredb-event-store.js';

/**
 * Our side of the EventStoreDB protocol, against a scripted server: the real client (requests, its
 * Transform stream, event conversion) over a fake gRPC call that plays protobuf responses. It checks
 * checkpoint ordering, resubscription, start positions, filters and paging. What the server really
 * does is checked by the contract suite, which runs when EVENTSTORE_URL is set.
 */
type EventStep = { event: bigint; type?: string; stream?: string };
type Step = EventStep | { checkpoint: bigint } | { caughtUp: true } | { error: Error };
type Request = {
  from?: bigint;
  subscription: boolean;
  backwards: boolean;
  regex?: string;
  prefixes?: string[];
};

const { ReadResp } = streamsPb;

const response = (step: Exclude<Step, { error: Error }>) => {
  const resp = new ReadResp();
  if ('checkpoint' in step) {
    const checkpoint = new ReadResp.Checkpoint();
    checkpoint.setCommitPosition(String(step.checkpoint));
    checkpoint.setPreparePosition(String(step.checkpoint));
    return resp.setCheckpoint(checkpoint);
  }
  if ('caughtUp' in step) return resp.setCaughtUp(new ReadResp.CaughtUp());
  const record = new ReadResp.ReadEvent.RecordedEvent();
  record.setId(new sharedPb.UUID().setString(randomUUID()));
  record.setStreamIdentifier(
    new sharedPb.StreamIdentifier().setStreamName(Buffer.from(step.stream ?? 'sim-1')),
  );
  record.setStreamRevision(String(step.event / 100n));
  record.setCommitPosition(String(step.event));
  record.setPreparePosition(String(step.event));
  record
    .getMetadataMap()
    .set('type', step.type ?? 'Noted')
    .set('content-type', 'application/json');
  record.setData(Buffer.from(JSON.stringify({ at: String(step.event) })));
  record.setCustomMetadata(Buffer.from(JSON.stringify({ eventId: randomUUID() })));
  return resp.setEvent(new ReadResp.ReadEvent().setEvent(record));
};

/** A store whose n-th subscription plays `openings[n]`; plain reads of `$all` see every scripted event. */
const scripted = (openings: Step[][], stored: Step[] = []) => {
  const steps = [...stored, ...openings.flat()];
  const all = new Map(steps.flatMap((s) => ('event' in s ? [[s.event, s] as const] : [])));
  const log = [...all.values()].sort((a, b) => (a.event < b.event ? -1 : 1));
  const requests: Request[] = [];
  let cancelled = 0;
  let opened = 0;
  const play = (steps: Step[], { live }: { live: boolean }) => {
    // Pull-based, one response at a time, like a network call. A subscription stays open after its
    // last step; a read ends.
    const call = new Readable({
      objectMode: true,
      highWaterMark: 1,
      read() {
        const step = steps.shift();
        if (!step) {
          if (!live) this.push(null);
        } else if ('error' in step) this.destroy(step.error);
        else this.push(response(step));
      },
    });
    return Object.assign(call, {
      cancel: () => {
        cancelled += 1;
        call.destroy();
      },
    });
  };
  const read = (req: InstanceType<typeof streamsPb.ReadReq>) => {
    const options = req.getOptions()!;
    const position = options.getAll()?.getPosition();
    const filter = options.getFilter();
    const request: Request = {
      from: position ? BigInt(position.getCommitPosition()) : undefined,
      subscription: options.hasSubscription(),
      backwards: options.getReadDirection() === 1,
      regex: filter?.getEventType()?.getRegex() || filter?.getStreamIdentifier()?.getRegex() || undefined,
      prefixes: filter?.getStreamIdentifier()?.getPrefixList(),
    };
    requests.push(request);
    if (request.subscription) return play([...(openings[opened++] ?? [])], { live: true });
    const { from, backwards } = request;
    const found = backwards
      ? log.filter((s) => from === undefined || s.event < from).reverse()
      : log.filter((s) => from === undefined || s.event >= from);
    return play(found.slice(0, Number(options.getCount())), { live: false });
  };
  const client = EventStoreDBClient.connectionString('esdb://localhost:1?tls=false');
  Object.assign(client, {
    callArguments: () => [],
    GRPCStreamCreator:
      (_client: unknown, _name: string, create: (grpc: { read: typeof read }) => Readable) => async () =>
        create({ read }),
  });
  return { store: createEventStoreDbEventStore(client), requests, cancelled: () => cancelled };
};

/**
 * Subscribes until `count` events (and a checkpoint at `checkpoint`, if given) arrived, or the
 * iteration ends; logs events and checkpoints in the order the consumer saw them.
 */
const subscribe = async (
  openings: Step[][],
  options: Omit<SubscribeOptions, 'signal' | 'onCheckpoint'>,
  {
    count,
    checkpoint,
    slowly = false,
    stored,
  }: { count: number; checkpoint?: Position; slowly?: boolean; stored?: Step[] },
) => {
  const server = scripted(openings, stored);
  const controller = new AbortController();
  const positions: Position[] = [];
  const log: Array<[string, Position]> = [];
  const stopIfDone = () => {
    const checkpointed =
      checkpoint === undefined || log.some(([k, p]) => k === 'checkpoint' && p >= checkpoint);
    if (positions.length === count && checkpointed) controller.abort();
  };
  const onCheckpoint = (p: Position) => {
    log.push(['checkpoint', p]);
    stopIfDone();
  };
  let error: unknown;
  try {
    for await (const e of server.store.subscribeToAll({
      ...options,
      signal: controller.signal,
      onCheckpoint,
    })) {
      positions.push(e.position);
      log.push(['event', e.position]);
      if (slowly) await new Promise((resolve) => setTimeout(resolve, 1));
      stopIfDone();
    }
  } catch (e) {
    error = e;
  }
  await new Promise((resolve) => setImmediate(resolve)); // the client cancels its call on the next turn
  return { positions, log, error, requests: server.requests, cancelled: server.cancelled() };
};

const events = (...positions: number[]): Step[] => positions.map((p) => ({ event: BigInt(p) }));
const range = (from: number, to: number) =>
  Array.from({ length: (to - from) / 100 + 1 }, (_, i) => from + i * 100);

describe('EventStoreDB subscription, against a scripted server', () => {
  it('reports a checkpoint only after the events before it, even to a slow consumer', async () => {
    const script: Step[] = [];
    for (const p of range(100, 3000)) {
      script.push({ event: BigInt(p) });
      if (p % 500 === 0 && p < 3000) script.push({ checkpoint: BigInt(p + 50) });
    }
    script.push({ caughtUp: true });
    const result = await subscribe([script], {}, { count: 30, checkpoint: 3000n, slowly: true });
    expect(result.error).toBeUndefined();
    expect(result.positions).toEqual(range(100, 3000).map(BigInt));
    const checkpoints = result.log.filter(([kind]) => kind === 'checkpoint').map(([, p]) => p);
    // A server checkpoint covers the positions before it; caught up covers the last event.
    expect(checkpoints).toEqual([549n, 1049n, 1549n, 2049n, 2549n, 3000n]);
    for (const [index, [kind, p]] of result.log.entries()) {
      if (kind !== 'checkpoint') continue;
      const before = result.log.slice(0, index).filter(([k]) => k === 'event');
      expect(before.length, `checkpoint ${p}`).toBe(range(100, 3000).filter((e) => BigInt(e) <= p).length);
    }
  });

  it('once live, reports a checkpoint at the last event whenever it has nothing more to read', async () => {
    const script = [...events(100), { caughtUp: true } as const, ...events(200, 300)];
    const result = await subscribe([script], {}, { count: 3, checkpoint: 300n });
    expect(result.log).toEqual([
      ['event', 100n],
      ['checkpoint', 100n],
      ...(result.log.slice(2, -2) as Array<[string, Position]>),
      ['event', 300n],
      ['checkpoint', 300n],
    ]);
  });

  it('delivers an event at the position of a checkpoint (KurrentDB #4970: a checkpoint at the end of the log)', async () => {
    const script = [...events(100), { checkpoint: 200n }, ...events(200), { caughtUp: true } as const];
    const result = await subscribe([script], {}, { count: 2, checkpoint: 200n });
    expect(result.error).toBeUndefined();
    expect(result.log).toEqual([
      ['event', 100n],
      ['checkpoint', 199n],
      ['event', 200n],
      ['checkpoint', 200n],
    ]);
  });

  it('resubscribes after a checkpoint from before it, so an event at the checkpoint still arrives', async () => {
    const first = [...events(100), { checkpoint: 300n }, { error: new UnavailableError() }];
    const second = [...events(300, 400), { caughtUp: true } as const];
    const result = await subscribe([first, second], {}, { count: 3, stored: events(200) });
    expect(result.error).toBeUndefined();
    expect(result.positions).toEqual([100n, 300n, 400n]);
    // 299 is between events: the subscription starts after 200, the last event before it.
    const subscriptions = result.requests.filter((r) => r.subscription);
    expect(subscriptions.map((r) => r.from)).toEqual([undefined, 200n]);
  });

  it('resubscribes after a transient failure from the last position delivered, dropping repeats', async () => {
    const first = [...events(100, 200, 300), { error: new UnavailableError() }];
    const second = [...events(300, 400), { caughtUp: true } as const];
    const result = await subscribe([first, second], {}, { count: 4 });
    expect(result.error).toBeUndefined();
    expect(result.positions).toEqual([100n, 200n, 300n, 400n]);
    const subscriptions = result.requests.filter((r) => r.subscription);
    expect(subscriptions.map((r) => r.from)).toEqual([undefined, 300n]);
  });

  it('throws a failure that is not transient to the consumer', async () => {
    const denied = new AccessDeniedError();
    const result = await subscribe([[...events(100), { error: denied }]], {}, { count: 5 });
    expect(result.positions).toEqual([100n]);
    expect(result.error).toBe(denied);
  });

  it('ends on abort while waiting for events, and cancels the call', async () => {
    const result = await subscribe([events(100)], {}, { count: 1 });
    expect(result).toMatchObject({ positions: [100n], error: undefined, cancelled: 1 });
  });

  it('starts after an event position exactly, and before a position between events', async () => {
    const script = [...events(100, 200, 300), { caughtUp: true } as const];
    const exact = await subscribe([script.slice(2)], { after: 200n }, { count: 1, stored: script });
    expect(exact.requests.filter((r) => r.subscription).map((r) => r.from)).toEqual([200n]);
    expect(exact.positions).toEqual([300n]);
    // 150 is between events: subscribe after 100 (the event before) and drop nothing that is after 150.
    const between = await subscribe([script.slice(1)], { after: 150n }, { count: 2, stored: script });
    expect(between.requests.filter((r) => r.subscription).map((r) => r.from)).toEqual([100n]);
    expect(between.positions).toEqual([200n, 300n]);
  });

  it('filters on the server by type or by stream prefix, the rest here, and skips system events', async () => {
    const script: Step[] = [
      { event: 100n, type: 'A.B', stream: 'x-1' },
      { event: 200n, type: '$metadata', stream: 'x-1' },
      { event: 300n, type: 'Other', stream: 'x-1' },
      { event: 400n, type: 'A.B', stream: 'y-1' },
      { caughtUp: true },
    ];
    const byType = await subscribe([script], { filter: { eventTypes: ['A.B'] } }, { count: 2 });
    expect(byType.requests[0]).toMatchObject({ regex: '^(?:A\\.B)$' });
    expect(byType.positions).toEqual([100n, 400n]);
    const both = await subscribe(
      [script],
      { filter: { eventTypes: ['A.B'], streamPrefixes: ['x-'] } },
      { count: 1 },
    );
    expect(both.requests[0]).toMatchObject({ prefixes: ['x-'], regex: undefined });
    expect(both.positions).toEqual([100n]);
    const none = await subscribe([script], {}, { count: 3 });
    expect(none.requests[0]).toMatchObject({ regex: '^[^$].*' });
    expect(none.positions).toEqual([100n, 300n, 400n]);
  });

  it('reads $all in pages, after a position exclusively, and finds the head among system events', async () => {
    const script: Step[] = range(100, 120_000).map((p) => ({
      event: BigInt(p),
      type: p % 700 ? 'Noted' : 'Rare',
    }));
    script.push({ event: 120_100n, type: '$statistics', stream: '$stats' });
    const { store } = scripted([script]);
    const all = await store.readAll({ after: 100n });
    expect(all.map((e) => e.position)).toEqual(range(200, 120_000).map(BigInt));
    const rare = await store.readAll({ after: 700n, filter: { eventTypes: ['Rare'] }, maxCount: 3 });
    expect(rare.map((e) => e.position)).toEqual([1400n, 2100n, 2800n]);
    expect(await store.headPosition()).toBe(120_000n);
  });
});
