import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMongoReadStore } from './mongo-read-store.js';
import { readStoreContract } from './read-store.contract.js';
import type { ReadStore, WriteOp } from './read-store.js';
import { FERRETDB_GAPS, mongoForSuite } from './testing/ferretdb-server.js';

const mongo = mongoForSuite('MongoDB read-store contract');

describe.skipIf(!mongo)(`MongoDB read store (${mongo?.source})`, () => {
  beforeAll(() => mongo!.start(), 60_000);
  afterAll(() => mongo?.stop());

  // Reads from the primary: with the default secondaryPreferred, a read straight after a write may
  // miss it by the replication lag, and this suite checks the store, not the replication delay.
  readStoreContract(
    'MongoDB',
    () =>
      createMongoReadStore({
        url: mongo!.url(),
        dbName: process.env.MONGO_DB ?? mongo!.dbName('contract'),
        readPreference: 'primary',
      }),
    { gaps: () => (mongo!.isFerretDB() ? FERRETDB_GAPS : {}) },
  );

  it('bounds every write by the write timeout: majority writes never wait forever', async () => {
    const concerns: Array<{ command: string; writeConcern: unknown }> = [];
    const store = await createMongoReadStore({
      url: mongo!.url(),
      dbName: mongo!.dbName('write-concern'),
      readPreference: 'primary',
      writeTimeoutMs: 1234,
      onCommandStarted: ({ commandName, command }) => {
        if (['insert', 'update', 'delete', 'createIndexes'].includes(commandName))
          concerns.push({ command: commandName, writeConcern: command.writeConcern });
      },
    });
    try {
      const docs = store.collection('bounded');
      await docs.createIndex({ n: 1 });
      await docs.bulkWrite([
        { insertOne: { document: { _id: 'a', n: 1 } } },
        { updateOne: { filter: { _id: 'a' }, update: { $inc: { n: 1 } } } },
        { deleteOne: { filter: { _id: 'a' } } },
      ]);
      await store.checkWrites();
      expect(concerns.map((c) => c.command)).toEqual([
        'createIndexes',
        'update',
        'update',
        'delete',
        'update',
      ]);
      for (const { writeConcern } of concerns)
        expect(writeConcern).toEqual({ w: 'majority', wtimeout: 1234 });
    } finally {
      await store.close();
    }
  });

  describe('round trips', () => {
    const writeCommands = new Set(['insert', 'update', 'delete']);
    let store: ReadStore;
    let sent: string[] = [];

    beforeAll(async () => {
      store = await createMongoReadStore({
        url: mongo!.url(),
        dbName: mongo!.dbName('round-trips'),
        readPreference: 'primary',
        onCommandStarted: (event) => {
          if (writeCommands.has(event.commandName)) sent.push(event.commandName);
        },
      });
    });
    afterAll(() => store?.close());

    /** 500 guarded upserts over 50 documents, revisions 0..9 of each, in stream order. */
    const batch = (): WriteOp[] =>
      Array.from({ length: 500 }, (_, i) => {
        const id = `acc-${i % 50}`;
        const revision = Math.floor(i / 50);
        return {
          updateOne: {
            filter: { _id: id, revision: { $lt: revision } },
            update: { $set: { revision, balance: revision * 10 } },
            upsert: true,
          },
        };
      });

    it('a replayed batch of 500 guarded upserts costs no round trip per duplicate', async () => {
      const docs = store.collection('replayed');
      // The model as the first run left it: every document at its last revision.
      await docs.bulkWrite(
        Array.from({ length: 50 }, (_, i) => ({
          insertOne: { document: { _id: `acc-${i}`, revision: 9, balance: 90 } },
        })),
      );

      sent = [];
      expect(await docs.bulkWrite(batch())).toEqual({ applied: 0, duplicates: 500 });
      // One command on MongoDB; 32 statements a command on FerretDB (FERRETDB_STATEMENTS_PER_WRITE).
      // Sent as they were, the writes took 500: an ordered bulkWrite stops at every duplicate.
      console.info(`replayed batch of 500 guarded upserts: ${sent.length} write round trips`);
      expect(sent.length).toBeLessThanOrEqual(50);
      expect(await docs.countDocuments({ revision: 9, balance: 90 })).toBe(50);
    });

    it('a first run of the same batch applies all 500 in as many round trips', async () => {
      const docs = store.collection('first-run');
      sent = [];
      expect(await docs.bulkWrite(batch())).toEqual({ applied: 500, duplicates: 0 });
      console.info(`first run of 500 guarded upserts: ${sent.length} write round trips`);
      expect(sent.length).toBeLessThanOrEqual(50);
      expect(await docs.countDocuments({ revision: 9, balance: 90 })).toBe(50);
    });
  });
});
