import { randomUUID } from 'node:crypto';
import type { EventData, RecordedEvent } from '../../../infra/event-store/event-store.js';

export type EventSketch = { streamId: string; type: string; data: unknown; occurredAt?: string };

/** A fixed clock for test events: event n happened n seconds after 2026-01-01T00:00:00Z. */
export const testTime = (n: number): string => new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();

export const eventData = (type: string, data: unknown, occurredAt: string): EventData => ({
  type,
  data,
  metadata: {
    eventId: randomUUID(),
    correlationId: 'test',
    causationId: 'test',
    occurredAt,
    schemaVersion: 1,
  },
});

/** Events as a store would record them: revisions count per stream, positions run 1, 2, 3… */
export const recordedEvents = (sketches: readonly EventSketch[]): RecordedEvent[] => {
  const revisions = new Map<string, number>();
  return sketches.map(({ streamId, type, data, occurredAt }, index) => {
    const revision = revisions.get(streamId) ?? 0;
    revisions.set(streamId, revision + 1);
    return {
      ...eventData(type, data, occurredAt ?? testTime(index + 1)),
      streamId,
      revision,
      position: BigInt(index + 1),
    };
  });
};
