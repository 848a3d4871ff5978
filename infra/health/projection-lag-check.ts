import type { EventStore, Position } from '../event-store/event-store.js';
import type { HealthCheck } from './readiness.js';

export type ProjectionLagCheckOptions = {
  eventStore: EventStore;
  /** Reads a projection's stored checkpoint (whichever instance wrote it). */
  readCheckpoint: (projection: string) => Promise<Position | undefined>;
  /** The projections whose read models this process serves. */
  projections: readonly string[];
  /** Most events a projection may be behind the head of `$all` for the process to be ready. */
  maxLag: number;
};

/**
 * Ready only while every projection the read API serves is within `maxLag` events of the log's
 * head, so a replica does not take traffic with a read model far behind (after a rebuild, or with
 * its projector down). Lag is counted by reading at most maxLag + 1 events after the checkpoint:
 * positions are opaque, so they cannot be subtracted, and the count stays bounded.
 *
 * A lag that cannot be measured (the event store is away) degrades rather than fails: the read
 * model can still answer, and the event store's own check says what is wrong.
 */
export const projectionLagCheck = ({
  eventStore,
  readCheckpoint,
  projections,
  maxLag,
}: ProjectionLagCheckOptions): HealthCheck => ({
  name: 'projections',
  critical: true,
  async run() {
    // The checkpoints live in the read store: if it cannot be read, neither can the read models.
    const checkpoints = await Promise.all(projections.map(readCheckpoint));
    let lags: number[];
    try {
      const head = await eventStore.headPosition();
      lags = await Promise.all(
        checkpoints.map(async (checkpoint) => {
          if (head === undefined || (checkpoint !== undefined && checkpoint >= head)) return 0;
          return (await eventStore.readAll({ after: checkpoint, maxCount: maxLag + 1 })).length;
        }),
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { status: 'degraded', detail: { error: `lag unknown: ${message}` } };
    }
    const detail = Object.fromEntries(
      projections.map((name, i) => {
        const lag = lags[i] as number;
        return [name, { lagEvents: lag > maxLag ? `more than ${maxLag}` : lag }];
      }),
    );
    return { status: lags.some((lag) => lag > maxLag) ? 'down' : 'up', detail };
  },
});
