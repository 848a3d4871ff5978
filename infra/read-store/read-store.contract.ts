import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import type { Document, ReadStore } from './read-store.js';

/**
 * Contract cases a server is known to fail for want of a feature, each with the reason printed
 * when it is skipped (e.g. FERRETDB_GAPS in testing/ferretdb-server.ts). Keep the list short.
 */
export type ContractGaps = Partial<Record<'UPDATE_UNIQUE_INDEX' | 'SET_ON_INSERT_NULL', string>>;

/**
 * What every read-store adapter must do, in MongoDB's terms. Each test writes to collections of
 * its own, so the suite can share one real server with other runs; it drops them at the end.
 */
export const readStoreContract = (
  name: string,
  create: () => ReadStore | Promise<ReadStore>,
  { gaps = () => ({}) }: { gaps?: () => ContractGaps } = {},
) => {
  describe(`read store contract: ${name}`, () => {
    /** Skips the running case when the server lacks what it needs, saying so. */
    const unlessGap = (context: TestContext, gap: keyof ContractGaps) => {
      const reason = gaps()[gap];
      if (!reason) return;
      console.warn(`skipped: read store contract (${name}) "${context.task.name}": ${reason}`);
      context.skip(reason);
    };
    let store: ReadStore;
    const used: string[] = [];
    const run = randomUUID().slice(0, 8);
    const fresh = (label: string) => {
      const collectionName = `contract_${run}_${used.length}_${label}`;
      used.push(collectionName);
      return collectionName;
    };
    /** A fresh collection holding `docs`. */
    const seeded = async <T extends Document>(label: string, docs: T[]) => {
      const collection = store.collection<T>(fresh(label));
      if (docs.length > 0) await collection.bulkWrite(docs.map((document) => ({ insertOne: { document } })));
      return collection;
    };

    beforeAll(async () => {
      store = await create();
    });

    afterAll(async () => {
      if (!store) return;
      for (const collectionName of used) await store.dropCollection(collectionName);
      await store.close();
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('acknowledges a write probe', async () => {
      await expect(store.checkWrites()).resolves.toBeUndefined();
    });

    it("tells its clock's time (the test machine's clock and the server's agree here)", async () => {
      const before = Date.now();
      const now = await store.now();
      expect(now).toBeInstanceOf(Date);
      expect(now.getTime()).toBeGreaterThan(before - 5_000);
      expect(now.getTime()).toBeLessThan(Date.now() + 5_000);
    });

    describe('reads', () => {
      it('finds inserted documents by _id and by field, and counts them', async () => {
        const accounts = await seeded('reads', [
          { _id: 'a', owner: 'Ada', kind: 'savings' },
          { _id: 'b', owner: 'Bob', kind: 'checking' },
          { _id: 'c', owner: 'Cy', kind: 'savings' },
        ]);

        expect(await accounts.findOne({ _id: 'b' })).toEqual({ _id: 'b', owner: 'Bob', kind: 'checking' });
        expect(await accounts.findOne({ owner: 'Cy' })).toEqual({ _id: 'c', owner: 'Cy', kind: 'savings' });
        expect(await accounts.findOne({ _id: 'zz' })).toBeNull();
        expect(await accounts.findOne({ _id: 'a', owner: 'Bob' })).toBeNull();
        expect((await accounts.find({ kind: 'savings' })).map((d) => d._id).sort()).toEqual(['a', 'c']);
        expect(await accounts.find({ kind: 'none' })).toEqual([]);
        expect(await accounts.countDocuments()).toBe(3);
        expect(await accounts.countDocuments({ kind: 'savings' })).toBe(2);
      });

      it('reads a collection that was never written as empty', async () => {
        const nothing = store.collection(fresh('never-written'));
        expect(await nothing.findOne({})).toBeNull();
        expect(await nothing.find({})).toEqual([]);
        expect(await nothing.countDocuments()).toBe(0);
      });

      it('sorts ascending and descending, by several keys, with missing fields first', async () => {
        const docs = await seeded('sort', [
          { _id: 'a', group: 2, n: 3 },
          { _id: 'b', group: 1, n: 1 },
          { _id: 'c', group: 2, n: 5 },
          { _id: 'd', group: 1, n: 4 },
          { _id: 'e', group: 2 },
        ]);
        const ids = async (sort: Record<string, 1 | -1>, limit?: number) =>
          (await docs.find({}, { sort, limit })).map((d) => d._id);

        expect(await ids({ n: 1 })).toEqual(['e', 'b', 'a', 'd', 'c']);
        expect(await ids({ n: -1 })).toEqual(['c', 'd', 'a', 'b', 'e']);
        expect(await ids({ group: 1, n: -1 })).toEqual(['d', 'b', 'c', 'a', 'e']);
        expect(await ids({ n: -1 }, 2)).toEqual(['c', 'd']);
        expect(await ids({ n: 1 }, 10)).toEqual(['e', 'b', 'a', 'd', 'c']);
      });

      it('limits an unsorted find', async () => {
        const docs = await seeded(
          'limit',
          Array.from({ length: 5 }, (_, i) => ({ _id: `d${i}`, n: i })),
        );
        expect(await docs.find({}, { limit: 2 })).toHaveLength(2);
        expect(await docs.find({ n: { $gte: 3 } }, { limit: 10 })).toHaveLength(2);
      });

      it('returns the same page as a full sort for a limited sort over many documents', async () => {
        // Many ties on `score`, broken by _id, so the expected order is total and exact.
        const all = Array.from({ length: 300 }, (_, i) => ({
          _id: `d${String(i).padStart(3, '0')}`,
          score: (i * 37) % 23,
          even: i % 2 === 0,
        }));
        const docs = await seeded('top-k', all);
        const expected = all
          .filter((d) => d.even)
          .sort((a, b) => b.score - a.score || (a._id < b._id ? -1 : 1))
          .slice(0, 25);

        expect(await docs.find({ even: true }, { sort: { score: -1, _id: 1 }, limit: 25 })).toEqual(expected);
      });
    });

    describe('query operators', () => {
      const people = [
        { _id: 'p1', name: 'Ada', age: 36, address: { city: 'London' }, tags: ['math'] },
        { _id: 'p2', name: 'Bob', age: 17, address: { city: 'Paris' }, nickname: null },
        { _id: 'p3', name: 'Cy', age: 52, address: { city: 'London' }, tags: ['art', 'math'] },
        { _id: 'p4', name: 'Di', age: 29 },
      ];
      const matching = async (filter: Record<string, unknown>) => {
        const collection = await seeded('operators', people);
        return (await collection.find(filter, { sort: { _id: 1 } })).map((d) => d._id);
      };

      it('$eq and plain equality', async () => {
        expect(await matching({ name: { $eq: 'Bob' } })).toEqual(['p2']);
        expect(await matching({ age: 29 })).toEqual(['p4']);
      });

      it('$in', async () => {
        expect(await matching({ name: { $in: ['Ada', 'Di', 'Zed'] } })).toEqual(['p1', 'p4']);
      });

      it('$in on _id, with missing and repeated ids, combined with other conditions', async () => {
        expect(await matching({ _id: { $in: ['p3', 'p1', 'nobody', 'p1'] } })).toEqual(['p1', 'p3']);
        expect(await matching({ _id: { $in: ['p3', 'p1'] }, age: { $lt: 40 } })).toEqual(['p1']);
        expect(await matching({ _id: { $in: [] } })).toEqual([]);
      });

      it('$gt, $gte, $lt, $lte', async () => {
        expect(await matching({ age: { $gt: 29, $lt: 52 } })).toEqual(['p1']);
        expect(await matching({ age: { $gte: 29, $lte: 52 } })).toEqual(['p1', 'p3', 'p4']);
      });

      it('$exists, and null matching a missing field', async () => {
        expect(await matching({ tags: { $exists: true } })).toEqual(['p1', 'p3']);
        expect(await matching({ address: { $exists: false } })).toEqual(['p4']);
        expect(await matching({ nickname: null })).toEqual(['p1', 'p2', 'p3', 'p4']);
      });

      it('$or', async () => {
        expect(await matching({ $or: [{ age: { $lt: 20 } }, { name: 'Di' }] })).toEqual(['p2', 'p4']);
      });

      it('nested fields and array membership', async () => {
        expect(await matching({ 'address.city': 'London' })).toEqual(['p1', 'p3']);
        expect(await matching({ tags: 'math' })).toEqual(['p1', 'p3']);
        expect(await matching({ 'address.city': 'London', tags: 'art' })).toEqual(['p3']);
      });
    });

    describe('update operators', () => {
      const updated = async (start: Document, update: Record<string, unknown>) => {
        const collection = await seeded('update', [start]);
        const result = await collection.bulkWrite([{ updateOne: { filter: { _id: start._id }, update } }]);
        expect(result).toEqual({ applied: 1, duplicates: 0 });
        return collection.findOne({ _id: start._id });
      };

      it('$set, top-level and nested', async () => {
        expect(await updated({ _id: 'x', a: 1 }, { $set: { a: 2, 'b.c': 'deep' } })).toEqual({
          _id: 'x',
          a: 2,
          b: { c: 'deep' },
        });
      });

      it('$inc, on an existing and on a missing field', async () => {
        expect(await updated({ _id: 'x', n: 5 }, { $inc: { n: -2, m: 3 } })).toEqual({
          _id: 'x',
          n: 3,
          m: 3,
        });
      });

      it('$unset', async () => {
        expect(await updated({ _id: 'x', a: 1, b: 2 }, { $unset: { a: '' } })).toEqual({ _id: 'x', b: 2 });
      });

      it('$max keeps the larger value', async () => {
        expect(await updated({ _id: 'x', hi: 10, lo: 1 }, { $max: { hi: 5, lo: 7 } })).toEqual({
          _id: 'x',
          hi: 10,
          lo: 7,
        });
      });

      it('$push appends, creating the array when missing', async () => {
        expect(await updated({ _id: 'x', log: ['a'] }, { $push: { log: 'b', other: 1 } })).toEqual({
          _id: 'x',
          log: ['a', 'b'],
          other: [1],
        });
      });

      it('does not touch a document the filter does not match, and counts nothing', async () => {
        const collection = await seeded('update-miss', [{ _id: 'x', n: 1 }]);
        const result = await collection.bulkWrite([
          { updateOne: { filter: { _id: 'x', n: 2 }, update: { $set: { n: 3 } } } },
          { updateOne: { filter: { _id: 'y' }, update: { $set: { n: 3 } } } },
        ]);
        expect(result).toEqual({ applied: 0, duplicates: 0 });
        expect(await collection.find({})).toEqual([{ _id: 'x', n: 1 }]);
      });
    });

    describe('upsert', () => {
      it('inserts from the filter equalities, the update and $setOnInsert, then only updates', async () => {
        const balances = store.collection(fresh('upsert'));
        const upsert = (amount: number) =>
          balances.bulkWrite([
            {
              updateOne: {
                filter: { _id: 'acc-1', currency: 'EUR' },
                update: { $inc: { balance: amount }, $setOnInsert: { openedWith: amount } },
                upsert: true,
              },
            },
          ]);

        expect(await upsert(100)).toEqual({ applied: 1, duplicates: 0 });
        expect(await balances.findOne({ _id: 'acc-1' })).toEqual({
          _id: 'acc-1',
          currency: 'EUR',
          balance: 100,
          openedWith: 100,
        });

        expect(await upsert(50)).toEqual({ applied: 1, duplicates: 0 });
        expect(await balances.findOne({ _id: 'acc-1' })).toEqual({
          _id: 'acc-1',
          currency: 'EUR',
          balance: 150,
          openedWith: 100,
        });
      });

      it('$setOnInsert stores null and empty arrays', async (context) => {
        unlessGap(context, 'SET_ON_INSERT_NULL');
        const docs = store.collection(fresh('set-on-insert-null'));
        await docs.bulkWrite([
          {
            updateOne: {
              filter: { _id: 'a' },
              update: { $setOnInsert: { owner: null, tags: [], n: 0 } },
              upsert: true,
            },
          },
        ]);
        expect(await docs.findOne({ _id: 'a' })).toEqual({ _id: 'a', owner: null, tags: [], n: 0 });
      });

      it('keeps null and empty-array fields of what a guarded upsert, a replacement or an insert creates', async () => {
        const docs = store.collection(fresh('upsert-null'));
        const result = await docs.bulkWrite([
          {
            updateOne: {
              filter: { _id: 'g', revision: { $lt: 0 } },
              update: { $set: { revision: 0, reference: null, tags: [] } },
              upsert: true,
            },
          },
          {
            replaceOne: {
              filter: { _id: 'r', revision: { $lt: 0 } },
              replacement: { _id: 'r', revision: 0, reference: null, tags: [] },
              upsert: true,
            },
          },
          { insertOne: { document: { _id: 'i', reference: null, tags: [] } } },
          { insertOne: { document: { _id: 'i', reference: 'again' } } },
        ]);
        expect(result).toEqual({ applied: 3, duplicates: 1 });
        expect(await docs.find({}, { sort: { _id: 1 } })).toEqual([
          { _id: 'g', revision: 0, reference: null, tags: [] },
          { _id: 'i', reference: null, tags: [] },
          { _id: 'r', revision: 0, reference: null, tags: [] },
        ]);
      });

      it('replaceOne replaces the whole document, or inserts it with upsert', async () => {
        const docs = await seeded('replace', [{ _id: 'x', a: 1, b: 2 }]);
        const result = await docs.bulkWrite([
          { replaceOne: { filter: { _id: 'x' }, replacement: { _id: 'x', c: 3 } } },
          { replaceOne: { filter: { _id: 'y' }, replacement: { _id: 'y', d: 4 } } },
          { replaceOne: { filter: { _id: 'z' }, replacement: { _id: 'z', e: 5 }, upsert: true } },
        ]);
        expect(result).toEqual({ applied: 2, duplicates: 0 });
        expect(await docs.find({}, { sort: { _id: 1 } })).toEqual([
          { _id: 'x', c: 3 },
          { _id: 'z', e: 5 },
        ]);
      });
    });

    describe('guarded upsert', () => {
      // A projection writes revision r of a stream only over an older revision: the guard.
      const apply = (collectionName: string, revision: number, value: string) =>
        store.collection(collectionName).bulkWrite([
          {
            updateOne: {
              filter: { _id: 'acc-1', revision: { $lt: revision } },
              update: { $set: { revision, value } },
              upsert: true,
            },
          },
        ]);

      it('writes a new document and newer revisions', async () => {
        const collectionName = fresh('guard-new');
        expect(await apply(collectionName, 0, 'first')).toEqual({ applied: 1, duplicates: 0 });
        expect(await apply(collectionName, 1, 'second')).toEqual({ applied: 1, duplicates: 0 });
        expect(await store.collection(collectionName).findOne({ _id: 'acc-1' })).toEqual({
          _id: 'acc-1',
          revision: 1,
          value: 'second',
        });
      });

      it('turns a stale or repeated revision into a counted no-op that leaves the document as it was', async () => {
        const collectionName = fresh('guard-stale');
        await apply(collectionName, 5, 'current');

        expect(await apply(collectionName, 3, 'stale')).toEqual({ applied: 0, duplicates: 1 });
        expect(await apply(collectionName, 5, 'repeated')).toEqual({ applied: 0, duplicates: 1 });
        expect(await store.collection(collectionName).find({})).toEqual([
          { _id: 'acc-1', revision: 5, value: 'current' },
        ]);
      });
    });

    describe('bulkWrite', () => {
      it('applies operations in order, each seeing the ones before it', async () => {
        const docs = store.collection(fresh('ordered'));
        const result = await docs.bulkWrite([
          { insertOne: { document: { _id: 'a', n: 1 } } },
          { updateOne: { filter: { _id: 'a', n: 1 }, update: { $inc: { n: 10 } } } },
          { updateOne: { filter: { _id: 'a', n: 11 }, update: { $push: { seen: 11 } } } },
          { deleteOne: { filter: { _id: 'a' } } },
          { updateOne: { filter: { _id: 'a' }, update: { $set: { n: 0 } }, upsert: true } },
          { deleteOne: { filter: { _id: 'never' } } },
        ]);
        expect(result).toEqual({ applied: 5, duplicates: 0 });
        expect(await docs.find({})).toEqual([{ _id: 'a', n: 0 }]);
      });

      it('skips and counts an insert of an existing _id, and goes on with the rest', async () => {
        const docs = store.collection(fresh('duplicate-insert'));
        const result = await docs.bulkWrite([
          { insertOne: { document: { _id: 'a', v: 1 } } },
          { insertOne: { document: { _id: 'a', v: 2 } } },
          { insertOne: { document: { _id: 'b', v: 3 } } },
        ]);
        expect(result).toEqual({ applied: 2, duplicates: 1 });
        expect(await docs.find({}, { sort: { _id: 1 } })).toEqual([
          { _id: 'a', v: 1 },
          { _id: 'b', v: 3 },
        ]);
      });

      it('mixes inserts, guarded and plain upserts, updates and deletes, in order, counting each', async () => {
        const docs = await seeded('mixed', [{ _id: 'x', revision: 3, n: 1 }]);
        const guarded = (id: string, below: number, update: Record<string, unknown>) => ({
          updateOne: { filter: { _id: id, revision: { $lt: below } }, update, upsert: true },
        });
        const result = await docs.bulkWrite([
          { insertOne: { document: { _id: 'a', n: 1 } } }, // applied
          { insertOne: { document: { _id: 'x', n: 9 } } }, // duplicate
          guarded('x', 2, { $set: { revision: 2 } }), // duplicate: stale
          guarded('x', 4, { $set: { revision: 4 }, $inc: { n: 1 } }), // applied
          { updateOne: { filter: { _id: 'a' }, update: { $inc: { n: 10 } } } }, // applied
          { updateOne: { filter: { _id: 'b' }, update: { $inc: { n: 1 } }, upsert: true } }, // applied: inserts
          guarded('c', 0, { $set: { revision: 0 }, $push: { log: 'c0' } }), // applied: inserts
          { deleteOne: { filter: { _id: 'b' } } }, // applied
          { insertOne: { document: { _id: 'b', n: 2 } } }, // applied: b is gone
          guarded('c', 0, { $set: { revision: 0 } }), // duplicate: repeated
          guarded('x', 1, { $mul: { n: 2 } }), // duplicate: stale
          guarded('x', 9, { $set: { revision: 9 }, $mul: { n: 3 } }), // applied
        ]);
        expect(result).toEqual({ applied: 8, duplicates: 4 });
        expect(await docs.find({}, { sort: { _id: 1 } })).toEqual([
          { _id: 'a', n: 11 },
          { _id: 'b', n: 2 },
          { _id: 'c', revision: 0, log: ['c0'] },
          { _id: 'x', revision: 9, n: 6 },
        ]);
      });

      it('accepts an empty list of operations', async () => {
        const docs = store.collection(fresh('empty-bulk'));
        expect(await docs.bulkWrite([])).toEqual({ applied: 0, duplicates: 0 });
      });
    });

    describe('unique index', () => {
      it('counts a write that would repeat a unique key as a duplicate and leaves the documents as they were', async (context) => {
        unlessGap(context, 'UPDATE_UNIQUE_INDEX');
        const users = store.collection(fresh('unique'));
        await users.createIndex({ email: 1 }, { unique: true });
        await users.createIndex({ email: 1 }, { unique: true }); // repeated: no-op
        await users.bulkWrite([
          { insertOne: { document: { _id: 'u1', email: 'ada@example.com' } } },
          { insertOne: { document: { _id: 'u2', email: 'bob@example.com' } } },
        ]);

        const result = await users.bulkWrite([
          { insertOne: { document: { _id: 'u3', email: 'ada@example.com' } } },
          { updateOne: { filter: { _id: 'u2' }, update: { $set: { email: 'ada@example.com' } } } },
          {
            updateOne: {
              filter: { _id: 'u4' },
              update: { $set: { email: 'bob@example.com' } },
              upsert: true,
            },
          },
          { updateOne: { filter: { _id: 'u1' }, update: { $set: { email: 'ada@example.org' } } } },
          { insertOne: { document: { _id: 'u5', email: 'ada@example.com' } } },
        ]);

        expect(result).toEqual({ applied: 2, duplicates: 3 });
        expect(await users.find({}, { sort: { _id: 1 } })).toEqual([
          { _id: 'u1', email: 'ada@example.org' },
          { _id: 'u2', email: 'bob@example.com' },
          { _id: 'u5', email: 'ada@example.com' },
        ]);
      });

      it('refuses to build over documents that already repeat the key', async () => {
        const docs = await seeded('unique-build', [
          { _id: 'a', k: 1 },
          { _id: 'b', k: 1 },
        ]);
        await expect(docs.createIndex({ k: 1 }, { unique: true })).rejects.toThrow();
      });

      it('lets a non-unique index hold repeated keys', async () => {
        const docs = store.collection(fresh('non-unique'));
        await docs.createIndex({ k: 1 });
        const result = await docs.bulkWrite([
          { insertOne: { document: { _id: 'a', k: 1 } } },
          { insertOne: { document: { _id: 'b', k: 1 } } },
        ]);
        expect(result).toEqual({ applied: 2, duplicates: 0 });
      });
    });

    describe('collections', () => {
      it('drops a collection, and dropping a missing one is fine', async () => {
        const collectionName = fresh('drop');
        const docs = store.collection(collectionName);
        await docs.bulkWrite([{ insertOne: { document: { _id: 'a' } } }]);

        await store.dropCollection(collectionName);
        await store.dropCollection(collectionName);

        expect(await docs.countDocuments()).toBe(0);
        expect(await docs.findOne({ _id: 'a' })).toBeNull();
      });

      it('renames a collection over an existing target, indexes included', async () => {
        const rebuilt = fresh('rebuilt');
        const live = fresh('live');
        await store.collection(live).bulkWrite([{ insertOne: { document: { _id: 'old', email: 'x' } } }]);
        const next = store.collection(rebuilt);
        await next.createIndex({ email: 1 }, { unique: true });
        await next.bulkWrite([{ insertOne: { document: { _id: 'new', email: 'y' } } }]);

        await store.renameCollection(rebuilt, live);

        const swapped = store.collection(live);
        expect(await swapped.find({})).toEqual([{ _id: 'new', email: 'y' }]);
        expect(await store.collection(rebuilt).countDocuments()).toBe(0);
        expect(await swapped.bulkWrite([{ insertOne: { document: { _id: 'other', email: 'y' } } }])).toEqual({
          applied: 0,
          duplicates: 1,
        });
      });

      it('renames a collection to a free name', async () => {
        const from = fresh('rename-from');
        const to = fresh('rename-to');
        await store.collection(from).bulkWrite([{ insertOne: { document: { _id: 'a' } } }]);
        await store.renameCollection(from, to);
        expect(await store.collection(to).find({})).toEqual([{ _id: 'a' }]);
        expect(await store.collection(from).countDocuments()).toBe(0);
      });

      it('refuses to rename a collection that does not exist', async () => {
        await expect(store.renameCollection(fresh('missing'), fresh('target'))).rejects.toThrow();
      });
    });

    describe('undefined', () => {
      it('stores an undefined field as absent, never as null', async () => {
        const docs = store.collection(fresh('undefined'));
        await docs.bulkWrite([
          { insertOne: { document: { _id: 'a', gone: undefined, nested: { gone: undefined, kept: 1 } } } },
          {
            updateOne: { filter: { _id: 'b' }, update: { $set: { gone: undefined, kept: 2 } }, upsert: true },
          },
        ]);
        const [a, b] = await docs.find({}, { sort: { _id: 1 } });
        expect(a?.gone).toBeUndefined();
        expect(a?.nested).toEqual({ kept: 1 });
        expect((a?.nested as Record<string, unknown> | undefined)?.gone).toBeUndefined();
        expect(b?.gone).toBeUndefined();
        expect(b).toEqual({ _id: 'b', kept: 2 });
      });
    });

    describe('isolation', () => {
      it('hands out copies: changing a returned document changes nothing stored', async () => {
        const docs = await seeded('isolation-out', [{ _id: 'a', nested: { n: 1 }, list: [1] }]);

        const one = await docs.findOne({ _id: 'a' });
        one!.nested = { n: 99 };
        (one!.list as number[]).push(2);
        const [first] = await docs.find({});
        (first!.nested as { n: number }).n = 42;

        expect(await docs.findOne({ _id: 'a' })).toEqual({ _id: 'a', nested: { n: 1 }, list: [1] });
      });

      it('takes copies: changing what was written changes nothing stored', async () => {
        const docs = store.collection(fresh('isolation-in'));
        const document = { _id: 'a', nested: { n: 1 } };
        const value = { n: 2 };
        await docs.bulkWrite([{ insertOne: { document } }]);
        await docs.bulkWrite([
          { updateOne: { filter: { _id: 'b' }, update: { $set: { nested: value } }, upsert: true } },
        ]);

        document.nested.n = 99;
        value.n = 99;

        expect(await docs.find({}, { sort: { _id: 1 } })).toEqual([
          { _id: 'a', nested: { n: 1 } },
          { _id: 'b', nested: { n: 2 } },
        ]);
      });
    });
  });
};
