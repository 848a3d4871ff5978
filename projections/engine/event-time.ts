import { z } from 'zod';
import type { RecordedEvent } from '../../infra/event-store/event-store.js';

const OccurredAt = z.iso.datetime({ offset: true });

/**
 * When the event happened, from its metadata (the command pipeline stamps it): read models take
 * their times from here, never from the clock, so a replay writes the same documents.
 */
export const occurredAt = (event: RecordedEvent): string => OccurredAt.parse(event.metadata.occurredAt);
