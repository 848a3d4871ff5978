import type { BulkWriteResult, ReadStore, WriteOp } from '../../infra/read-store/read-store.js';
import type { Projection, ProjectionOps } from './projection.js';

/** Throws when a handler wrote to a collection its projection does not own: a bug, so the event parks. */
export const checkOps = (projection: Projection, ops: ProjectionOps): ProjectionOps => {
  for (const name of Object.keys(ops)) {
    if (!projection.collections.some((c) => c.name === name))
      throw new Error(`projection ${projection.name} wrote to ${name}, which it does not own`);
  }
  return ops;
};

/** The ops of many events, in event order, per physical collection: one bulkWrite each. */
export const groupOps = (
  entries: Iterable<ProjectionOps>,
  physical: (name: string) => string = (name) => name,
): Map<string, WriteOp[]> => {
  const grouped = new Map<string, WriteOp[]>();
  for (const ops of entries) {
    for (const [name, list] of Object.entries(ops)) {
      if (list.length === 0) continue;
      const target = physical(name);
      const into = grouped.get(target);
      if (into) into.push(...list);
      else grouped.set(target, [...list]);
    }
  }
  return grouped;
};

/** Collections are independent of each other, so their bulk writes go out together. */
export const writeGrouped = async (
  readStore: ReadStore,
  grouped: ReadonlyMap<string, readonly WriteOp[]>,
): Promise<BulkWriteResult> => {
  const results = await Promise.all(
    [...grouped].map(([name, ops]) => readStore.collection(name).bulkWrite(ops)),
  );
  return results.reduce(
    (sum, r) => ({ applied: sum.applied + r.applied, duplicates: sum.duplicates + r.duplicates }),
    {
      applied: 0,
      duplicates: 0,
    },
  );
};

const idOf = (op: WriteOp): unknown => {
  if ('insertOne' in op) return op.insertOne.document._id;
  if ('updateOne' in op) return op.updateOne.filter._id;
  if ('replaceOne' in op) return op.replaceOne.filter._id ?? op.replaceOne.replacement._id;
  return op.deleteOne.filter._id;
};

/** The `_id`s the ops name, by collection: what an after-flush hook refreshes. */
export const touchedIds = (
  entries: Iterable<ProjectionOps>,
  into = new Map<string, Set<string>>(),
): Map<string, Set<string>> => {
  for (const ops of entries) {
    for (const [name, list] of Object.entries(ops)) {
      for (const op of list) {
        const id = idOf(op);
        if (typeof id !== 'string') continue;
        let ids = into.get(name);
        if (!ids) {
          ids = new Set();
          into.set(name, ids);
        }
        ids.add(id);
      }
    }
  }
  return into;
};
