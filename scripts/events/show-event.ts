import { positionToJson, type RecordedEvent } from '../../infra/event-store/event-store.js';

/**
 * How the inspector prints an event. For tools (--json): one JSON object per event, a line each
 * (`position` a decimal string, then streamId, revision, type, metadata and data as stored), so
 * `tail` can print them as they come and `jq` reads any of the commands. For a person: a headline
 * (position, stream, revision, type, schema version, time), then the metadata and the data.
 */
export const eventRecord = (event: RecordedEvent) => ({
  position: positionToJson(event.position),
  streamId: event.streamId,
  revision: event.revision,
  type: event.type,
  metadata: event.metadata as unknown,
  data: event.data,
});

export const jsonLine = (event: RecordedEvent): string => JSON.stringify(eventRecord(event));

/** `@12 account-a #2 MoneyWithdrawn v1 2025-06-01T10:00:00.000Z` */
export const headline = (event: RecordedEvent): string => {
  const metadata = fieldsOf(event.metadata);
  const version = metadata?.schemaVersion === undefined ? '?' : show(metadata.schemaVersion);
  const time = metadata?.occurredAt === undefined ? '(no time)' : show(metadata.occurredAt);
  return `@${positionToJson(event.position)} ${event.streamId} #${event.revision} ${event.type} v${version} ${time}`;
};

/** In the headline: not repeated among the metadata. */
const IN_HEADLINE = ['schemaVersion', 'occurredAt'];

/**
 * Every metadata field besides those in the headline and `omit`, in stored order, as key=value:
 * whatever a newer writer adds (an actor, say) shows up without the inspector knowing of it.
 */
export const metadataLine = (metadata: unknown, omit: readonly string[] = []): string | undefined => {
  const fields = fieldsOf(metadata);
  // Written by something else (EventStoreDB holds what any client wrote): shown as it is.
  if (!fields) return `metadata ${JSON.stringify(metadata) ?? '(none)'}`;
  const shown = Object.entries(fields).filter(([key]) => !IN_HEADLINE.includes(key) && !omit.includes(key));
  return shown.length === 0 ? undefined : shown.map(([key, value]) => `${key}=${show(value)}`).join('  ');
};

export const dataLine = (data: unknown): string => `data ${JSON.stringify(data) ?? '(none)'}`;

/** The headline, then the metadata and the data indented under it. */
export const eventLines = (event: RecordedEvent): string[] => {
  const metadata = metadataLine(event.metadata);
  return [
    headline(event),
    ...(metadata === undefined ? [] : [`    ${metadata}`]),
    `    ${dataLine(event.data)}`,
  ];
};

const fieldsOf = (metadata: unknown): Record<string, unknown> | undefined =>
  typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)
    ? (metadata as Record<string, unknown>)
    : undefined;

/** A plain word as it is; anything with spaces, quotes or `=` (or not a string) as JSON, so lines still split. */
const show = (value: unknown): string =>
  typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : (JSON.stringify(value) ?? String(value));
