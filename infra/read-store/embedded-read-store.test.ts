import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmbeddedReadStore, type EmbeddedReadStore } from './embedded-read-store.js';
import { readStoreContract } from './read-store.contract.js';
import type { Document, Filter, Sort } from './read-store.js';

const dirs: string[] = [];
const stores: EmbeddedReadStore[] = [];
const tempFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'eventfold-read-store-'));
  dirs.push(dir);
  return join(dir, 'read-models.sqlite');
};
const open = (file?: string) => {
  const store = createEmbeddedReadStore(file === undefined ? {} : { file });
  stores.push(store);
  return store;
};
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

readStoreContract('embedded', createEmbeddedReadStore);
readStoreContract('embedded, in a file', () => createEmbeddedReadStore({ file: tempFile() }));

/** `count` transactions over `accounts` accounts, as the account-transactions projection writes them. */
const transactions = (count: number, accounts: number) =>
  Array.from({ length: count }, (_, i) => ({
    _id: `acc-${i % accounts}:${Math.floor(i / accounts)}`,
    accountId: `acc-${i % accounts}`,
    revision: Math.floor(i / accounts),
    kind: i % 3 === 0 ? 'withdrawal' : 'deposit',
    amount: i,
  }));

const insertAll = (store: EmbeddedReadStore, name: string, docs: Document[]) =>
  store.collection(name).bulkWrite(docs.map((document) => ({ insertOne: { document } })));

describe('embedded read store on disk', () => {
  it('keeps documents, indexes, renames and metadata across a reopen', async () => {
    const file = tempFile();
    const first = open(file);
    await first.collection('tx__rebuild').createIndex({ accountId: 1, revision: 1 });
    await first.collection('uniq').createIndex({ email: 1 }, { unique: true });
    await insertAll(first, 'tx__rebuild', transactions(50, 5));
    await insertAll(first, 'uniq', [{ _id: 'u1', email: 'a@x', at: new Date('2024-01-02T03:04:05Z') }]);
    await first.renameCollection('tx__rebuild', 'tx');
    first.meta.set('k', 'v');
    await first.close();

    const again = open(file);
    expect(await again.collection('tx').countDocuments()).toBe(50);
    expect(await again.collection('tx__rebuild').countDocuments()).toBe(0);
    const byRevisionDown = transactions(50, 5)
      .filter((doc) => doc.accountId === 'acc-3')
      .sort((a, b) => b.revision - a.revision);
    expect(
      await again.collection('tx').find({ accountId: 'acc-3' }, { sort: { revision: -1 }, limit: 2 }),
    ).toEqual(byRevisionDown.slice(0, 2));
    // Values other than JSON's come back as they went in, as from MongoDB.
    expect((await again.collection('uniq').findOne({ _id: 'u1' }))?.at).toEqual(
      new Date('2024-01-02T03:04:05Z'),
    );
    expect(
      await again.collection('uniq').bulkWrite([{ insertOne: { document: { _id: 'u2', email: 'a@x' } } }]),
    ).toEqual({ applied: 0, duplicates: 1 });
    expect(again.meta.get('k')).toBe('v');
    expect(again.explain('tx', { accountId: 'acc-3' }, { sort: { revision: 1 } }).join('\n')).toMatch(
      /USING INDEX/,
    );
  });
});

describe('embedded read store indexes', () => {
  const page = { accountId: 'acc-7', revision: { $gt: 10 } };

  it('reads only the rows a page returns when an index serves the filter and sort', async () => {
    const store = open();
    const tx = store.collection('tx');
    await tx.createIndex({ accountId: 1, revision: 1 });
    await insertAll(store, 'tx', transactions(20_000, 100));

    const before = store.rowsRead;
    const found = await tx.find(page, { sort: { revision: 1 }, limit: 5 });
    expect(found.map((doc) => doc._id)).toEqual(['acc-7:11', 'acc-7:12', 'acc-7:13', 'acc-7:14', 'acc-7:15']);
    expect(store.rowsRead - before).toBe(5);
    const plan = store.explain('tx', page, { sort: { revision: 1 } }).join('\n');
    expect(plan).toMatch(/SEARCH .* USING INDEX/);
    expect(plan).not.toMatch(/TEMP B-TREE/); // the index gives the order: nothing sorted afterwards
  });

  it('reads only the indexed field’s matches when other conditions are left to mingo', async () => {
    const store = open();
    const tx = store.collection('tx');
    await tx.createIndex({ accountId: 1, revision: 1 });
    await insertAll(store, 'tx', transactions(20_000, 100));

    const before = store.rowsRead;
    const found = await tx.find({ accountId: 'acc-7', revision: { $mod: [2, 1] } });
    expect(found).toHaveLength(200 / 2);
    expect(store.rowsRead - before).toBe(200); // the account's rows, not the collection's
    expect(await tx.countDocuments({ accountId: 'acc-7' })).toBe(200);
  });

  it('scans a collection without the index (what the counter would show if the index were not used)', async () => {
    const store = open();
    await insertAll(store, 'tx', transactions(20_000, 100));
    const before = store.rowsRead;
    await store.collection('tx').find(page, { sort: { revision: 1 }, limit: 5 });
    expect(store.rowsRead - before).toBe(20_000); // every row, each tested by mingo
    expect(store.explain('tx', page).join('\n')).toMatch(/SCAN/);
  });

  it('uses the _id index for ranges and sorts on _id', async () => {
    const store = open();
    await insertAll(store, 'tx', transactions(5_000, 50));
    const before = store.rowsRead;
    const found = await store
      .collection('tx')
      .find({ _id: { $gt: 'acc-7:' } }, { sort: { _id: 1 }, limit: 3 });
    expect(found.map((doc) => doc._id)).toEqual(['acc-7:0', 'acc-7:1', 'acc-7:10']);
    expect(store.rowsRead - before).toBe(3);
  });
});

describe('embedded read store: an index never changes an answer', () => {
  // Values of every kind in the indexed fields, including those no column can hold (arrays,
  // booleans, objects, dates): the same queries on an indexed and an unindexed copy must agree.
  const docs: Document[] = [
    { _id: 'a', k: 1, n: 3 },
    { _id: 'b', k: 'x', n: 1 },
    { _id: 'c', k: null, n: 2 },
    { _id: 'd', n: 5 },
    { _id: 'e', k: 2.5, n: 4 },
    { _id: 'f', k: 'y', n: 'text' },
    { _id: 'g', k: 10, n: -1 },
    { _id: 'h', k: '10', n: 0 },
  ];
  const odd: Document[] = [
    { _id: 'i', k: [1, 'x'], n: 7 },
    { _id: 'j', k: true, n: 8 },
    { _id: 'k', k: { a: 1 }, n: 9 },
    { _id: 'l', k: new Date(0), n: 10 },
  ];
  const queries: [Filter, Sort | undefined, number | undefined][] = [
    [{ k: 1 }, undefined, undefined],
    [{ k: 'x' }, { n: 1 }, undefined],
    [{ k: null }, { _id: 1 }, undefined],
    [{ k: { $gt: 1 } }, { k: 1, _id: 1 }, undefined],
    [{ k: { $gte: 'x' } }, { k: -1 }, 2],
    [{ k: { $lt: 'y' } }, { _id: 1 }, undefined],
    [{ k: { $lte: 2.5 } }, { _id: 1 }, undefined],
    [{ k: { $in: [1, 'x', null] } }, { _id: 1 }, undefined],
    [{ k: { $in: [] } }, undefined, undefined],
    [{ $and: [{ k: { $gt: 0 } }, { n: { $lt: 4 } }] }, { _id: 1 }, undefined],
    [{ k: { $exists: true } }, { k: 1, _id: 1 }, 4],
    [{}, { k: 1, _id: 1 }, undefined],
    [{}, { k: -1, n: 1 }, 3],
    [{ n: { $gt: 0 } }, { n: -1 }, 2],
  ];

  for (const [label, all] of [
    ['plain values only', docs],
    ['with values no column holds', [...docs, ...odd]],
  ] as const) {
    it(label, async () => {
      const store = open();
      await store.collection('indexed').createIndex({ k: 1, n: 1 });
      await store.collection('indexed').createIndex({ n: -1 });
      await insertAll(store, 'indexed', [...all]);
      await insertAll(store, 'plain', [...all]);
      for (const [filter, sort, limit] of queries) {
        const ids = async (name: string) =>
          (await store.collection(name).find(filter, { sort, limit })).map((doc) => doc._id);
        const expected = await ids('plain');
        const message = JSON.stringify({ filter, sort, limit });
        if (sort) expect(await ids('indexed'), message).toEqual(expected);
        else expect((await ids('indexed')).sort(), message).toEqual(expected.sort());
        expect(await store.collection('indexed').countDocuments(filter), message).toBe(
          await store.collection('plain').countDocuments(filter),
        );
      }
    });
  }

  it('trusts an index again once the last document it could not hold is gone', async () => {
    const store = open();
    const c = store.collection('c');
    await c.createIndex({ k: 1 });
    await insertAll(store, 'c', [...docs, odd[0] as Document]);
    expect(store.explain('c', { k: 1 }).join('\n')).toMatch(/SCAN/);
    await c.bulkWrite([{ updateOne: { filter: { _id: 'i' }, update: { $set: { k: 3 } } } }]);
    expect(store.explain('c', { k: 1 }).join('\n')).toMatch(/USING INDEX/);
    expect((await c.find({ k: { $gte: 3 } }, { sort: { k: 1 } })).map((doc) => doc._id)).toEqual(['i', 'g']);
  });
});
