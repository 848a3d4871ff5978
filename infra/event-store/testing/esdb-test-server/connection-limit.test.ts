import { setTimeout as sleep } from 'node:timers/promises';
import { EventStoreDBClient, jsonEvent } from '@eventstore/db-client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type EsdbTestServer, startEsdbTestServer } from './index.js';

// Reads left open the way an abandoned `for await` leaves them: the client stops reading, flow
// control stops the server, the HTTP/2 stream stays open. 100 of them fill a connection.

let server: EsdbTestServer;

beforeAll(async () => {
  server = await startEsdbTestServer();
  // Written through another connection: the client under test must not have its BatchAppend call
  // open yet (an open one would still get through, its HTTP/2 stream already exists).
  const writer = EventStoreDBClient.connectionString(server.url);
  const kilobyte = 'x'.repeat(1_000);
  await writer.appendToStream(
    'padded',
    Array.from({ length: 150 }, (_, i) => jsonEvent({ type: 'Padded', data: { i, kilobyte } })),
  );
  await writer.dispose();
});

afterAll(() => server.stop());

const settlesWithin = async (promise: Promise<unknown>, ms: number) =>
  Promise.race([promise.then(() => true), sleep(ms).then(() => false)]);

test('100 abandoned reads block every further call on the connection; cancelling them frees it', async () => {
  const client = EventStoreDBClient.connectionString(server.url);
  const reads = Array.from({ length: 100 }, () => client.readAll({ maxCount: 500 }));
  await Promise.all(
    reads.map(async (read) => {
      for await (const _ of read) break;
    }),
  );
  expect(server.openCalls()).toBe(100);

  const append = client.appendToStream('after', jsonEvent({ type: 'Later', data: {} }));
  expect(await settlesWithin(append, 2_000)).toBe(false);

  await Promise.all(reads.map((read) => read.cancel()));
  expect(await settlesWithin(append, 2_000)).toBe(true);
  // What stays open is the client's BatchAppend call.
  await expect.poll(() => server.openCalls()).toBe(1);
  await client.dispose();
});
