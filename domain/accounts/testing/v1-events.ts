import { z } from 'zod';
import release from './v1-events.json' with { type: 'json' };

/**
 * Account events as the release before MoneyDeposited version 2 stored them (v1-events.json: its
 * rows, in log order, every one at schemaVersion 1, deposits without `balanceBefore`), for the
 * tests that check a store an older release left is read correctly everywhere.
 *
 * What they add up to: ada (owner ada, EUR) has 130 500 after a deposit of 150 000, a withdrawal
 * of 20 000 and a deposit of 500; bob (owner bob, EUR) has 2 500.
 */
const StoredRow = z.object({
  streamId: z.string(),
  type: z.string(),
  data: z.unknown(),
  metadata: z.looseObject({ eventId: z.string(), schemaVersion: z.literal(1) }),
});
export const v1Events = z.array(StoredRow).parse(release.events);

/** What an event store needs to take them (its append, as the older release called it). */
type Appends<Metadata> = {
  append(
    streamId: string,
    events: readonly { type: string; data: unknown; metadata: Metadata }[],
    options: { expectedRevision: number | 'no_stream' },
  ): Promise<unknown>;
};

/** Appends the rows to `store` one by one, in log order, as the older release did. */
export const appendV1Events = async <Metadata>(store: Appends<Metadata>): Promise<void> => {
  const revisions = new Map<string, number>();
  for (const { streamId, type, data, metadata } of v1Events) {
    const revision = revisions.get(streamId);
    await store.append(streamId, [{ type, data, metadata: metadata as Metadata }], {
      expectedRevision: revision ?? 'no_stream',
    });
    revisions.set(streamId, (revision ?? -1) + 1);
  }
};
