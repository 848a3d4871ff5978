import { z } from 'zod';
import type { RecordedEvent } from '../../infra/event-store/event-store.js';

const OccurredAt = z.iso.datetime({ offset: true });

/**
 * When the event happened, from its metadata (the command pipeline stamps it): read models take
 * their times from here, never from the clock, so a replay writes the same documents.
 */
export const occurredAt = (event: RecordedEvent): string => {
  const parsed = OccurredAt.safeParse(event.metadata.occurredAt);
  if (!parsed.success)
    throw new Error(
      `${event.type} at ${event.position} has no valid occurredAt: ${z.prettifyError(parsed.error)}`,
    );
  return parsed.data;
};
