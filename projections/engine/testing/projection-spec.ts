import { expect } from 'vitest';
import type { RecordedEvent } from '../../../infra/event-store/event-store.js';
import { createEmbeddedReadStore } from '../../../infra/read-store/embedded-read-store.js';
import type { Document, ReadStore } from '../../../infra/read-store/read-store.js';
import type { Projection } from '../projection.js';
import { checkOps, groupOps, writeGrouped } from '../write-ops.js';

/** Every document of each collection the projection owns, in _id order. */
export const readModel = async (
  readStore: ReadStore,
  projection: Projection,
  collectionName: (name: string) => string = (name) => name,
): Promise<Record<string, Document[]>> => {
  const model: Record<string, Document[]> = {};
  for (const { name } of projection.collections)
    model[name] = await readStore.collection(collectionName(name)).find({}, { sort: { _id: 1 } });
  return model;
};

/** Applies each event's writes, one event at a time, as the projector would. */
export const applyEvents = async (
  readStore: ReadStore,
  projection: Projection,
  events: readonly RecordedEvent[],
) => {
  for (const event of events)
    await writeGrouped(readStore, groupOps([checkOps(projection, projection.handle(event))]));
};

/**
 * Given/when/then for projections: given events, then documents.
 *
 *   await projectionSpec(accountsProjection()).given(events).then({ accounts: [doc] })
 *   await projectionSpec(accountsProjection()).given(events).thenThrows(/amount/)
 *
 * Runs the handler and writes through a real (embedded) read store, so the update operators and
 * the revision guards are exercised, not just the handler's return value.
 */
export const projectionSpec = (projection: Projection) => ({
  given: (events: readonly RecordedEvent[]) => ({
    // biome-ignore lint/suspicious/noThenProperty: given/when/then is the point; the object is never awaited
    then: async (expected: Record<string, Document[]>) => {
      const readStore = createEmbeddedReadStore();
      await applyEvents(readStore, projection, events);
      const model = await readModel(readStore, projection);
      for (const name of Object.keys(expected)) expect(model[name], name).toEqual(expected[name]);
      return model;
    },
    thenThrows: async (error: RegExp | string) => {
      const readStore = createEmbeddedReadStore();
      await expect(applyEvents(readStore, projection, events)).rejects.toThrow(error);
    },
  }),
});
