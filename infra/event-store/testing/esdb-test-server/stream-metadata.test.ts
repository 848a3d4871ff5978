import { randomUUID } from 'node:crypto';
import { BACKWARDS, END, EventStoreDBClient, jsonEvent } from '@eventstore/db-client';
import { afterAll, beforeAll, expect, test } from 'vitest';
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

const revisions = async (streamId: string, options = {}) => {
  const read: bigint[] = [];
  for await (const { event } of client.readStream(streamId, options)) read.push(event!.revision);
  return read;
};

test('setStreamMetadata is an append of a $metadata event to $$<stream>, read back as metadata', async () => {
  const stream = `meta-${randomUUID()}`;
  await client.setStreamMetadata(stream, { maxAge: 60 });
  const [metadata] = await collectEvents(`$$${stream}`);
  expect(metadata).toMatchObject({ type: '$metadata', data: { $maxAge: 60 } });
  expect((await client.getStreamMetadata(stream)).metadata).toEqual({ maxAge: 60 });
});

test('$maxAge hides older events from forward and backward reads, the stream still being there', async () => {
  const stream = `meta-${randomUUID()}`;
  await client.setStreamMetadata(stream, { maxAge: 10 });
  await client.appendToStream(stream, [
    jsonEvent({ type: 'Old', data: {} }),
    jsonEvent({ type: 'Old', data: {} }),
  ]);
  server.advanceClock(10_001);
  await client.appendToStream(stream, jsonEvent({ type: 'New', data: {} }));
  expect(await revisions(stream)).toEqual([2n]);
  expect(await revisions(stream, { direction: BACKWARDS, fromRevision: END, maxCount: 1 })).toEqual([2n]);
  server.advanceClock(10_001);
  // All past it: no events, and no StreamNotFoundError either (the read would throw one).
  expect(await revisions(stream)).toEqual([]);
  // Metadata set later applies to events already written; a bad value is no metadata at all.
  const other = `meta-${randomUUID()}`;
  await client.appendToStream(other, jsonEvent({ type: 'Old', data: {} }));
  server.advanceClock(5_000);
  await client.appendToStream(`$$${other}`, jsonEvent({ type: '$metadata', data: { $maxAge: 'soon' } }));
  expect(await revisions(other)).toEqual([0n]);
  await client.setStreamMetadata(other, { maxAge: 1 });
  expect(await revisions(other)).toEqual([]);
});

const collectEvents = async (streamId: string) => {
  const events: Array<{ type: string; data: unknown }> = [];
  for await (const { event } of client.readStream(streamId))
    events.push({ type: event!.type, data: event!.data });
  return events;
};
