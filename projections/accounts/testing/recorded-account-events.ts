import { accountEvents } from '../../../domain/accounts/account.js';
import type { RecordedEvent } from '../../../infra/event-store/event-store.js';
import { type EventSketch, recordedEvents } from '../../engine/testing/recorded-events.js';

/** Account events as this code's pipeline records them: each at its type's current version. */
export const recordedAccountEvents = (sketches: readonly EventSketch[]): RecordedEvent[] =>
  recordedEvents(sketches).map((event) => ({
    ...event,
    metadata: { ...event.metadata, schemaVersion: accountEvents.eventVersion(event.type) },
  }));

/** The same events, as a release `schemaVersion` wrote them (their data as that version had it). */
export const atVersion = (events: readonly RecordedEvent[], schemaVersion: number): RecordedEvent[] =>
  events.map((event) => ({ ...event, metadata: { ...event.metadata, schemaVersion } }));
