import {
  EventStoreDBClient,
  excludeSystemEvents,
  jsonEvent,
  START,
  UnavailableError,
} from '@eventstore/db-client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type EsdbTestServer, startEsdbTestServer } from './index.js';

let server: EsdbTestServer;
let client: EventStoreDBClient;

beforeAll(async () => {
  server = await startEsdbTestServer();
  client = EventStoreDBClient.connectionString(server.url);
  await client.appendToStream('before', jsonEvent({ type: 'Before', data: {} }));
});

afterAll(async () => {
  await client.dispose();
  await server.stop();
});

/** A subscription, once caught up, and how it ends: with the error it ends with. */
const caughtUpSubscription = async () => {
  const subscription = client.subscribeToAll({ fromPosition: START, filter: excludeSystemEvents() });
  const caughtUp = new Promise((resolve) => subscription.once('caughtUp', resolve));
  const ended = (async () => {
    try {
      for await (const _ of subscription);
      return undefined;
    } catch (error) {
      return error;
    }
  })();
  await caughtUp;
  return { ended };
};

test('dropSubscriptions ends every subscription with UNAVAILABLE, which the client reports as transient', async () => {
  const { ended } = await caughtUpSubscription();
  server.faults.dropSubscriptions();
  const error = await ended;
  expect(error).toBeInstanceOf(UnavailableError);
  expect(error).toMatchObject({ code: 14 });
});

test('refuseConnections: open calls end and new ones fail with UNAVAILABLE until the server listens again, log intact', async () => {
  const { ended } = await caughtUpSubscription();
  const refusing = server.faults.refuseConnections(1_000);
  expect(await ended).toBeInstanceOf(UnavailableError);

  // An UnavailableError, or, when the client was asking a new channel for the server features (it
  // does before the first append), the error as grpc-js made it: code 14 either way.
  await expect(
    client.appendToStream('during', jsonEvent({ type: 'During', data: {} })),
  ).rejects.toMatchObject({
    code: 14,
  });

  await refusing;
  const { nextExpectedRevision } = await client.appendToStream(
    'before',
    jsonEvent({ type: 'After', data: {} }),
  );
  expect(nextExpectedRevision).toBe(1n);
});
