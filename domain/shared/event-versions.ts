import { z } from 'zod';

/**
 * Events change shape over the years, but a stored event is never rewritten. So each event type
 * keeps every shape it was ever written in: the current zod schema, and for each older version
 * its schema and a pure function from its data to the next version's. Reading upcasts a stored
 * event step by step to the current version, validating every step, so everything that reads
 * (the command pipeline, projections, process managers) sees one shape only.
 *
 * The version is the event's `metadata.schemaVersion`, written by the pipeline from
 * `eventVersion(type)`. A type that never changed is at version 1.
 *
 *   const moneyDeposited = eventHistory(MoneyDepositedV1).to(MoneyDeposited, (v1) => ({ ...v1, x }));
 *   const accountEvents = eventVersions(AccountEvent, [moneyDeposited]);
 *   accountAggregate = { category, decider, ...accountEvents };
 */

/** An event schema as the domain writes them: a literal type, and its data. */
export type EventSchema = z.ZodObject<{ type: z.ZodLiteral<string>; data: z.ZodType }>;

/** An event as the store gives it back; without metadata, one this code just decided. */
export type StoredEvent = {
  type: string;
  data: unknown;
  metadata?: { schemaVersion?: unknown };
  streamId?: string;
  revision?: number;
};

/** An older version: its schema, and how its data becomes the next version's. */
export type Upcaster = { readonly schema: EventSchema; readonly up: (data: unknown) => unknown };

/** One event type's versions, oldest first; the last is the current one. */
export type EventHistory<Current extends EventSchema = EventSchema> = {
  readonly type: string;
  /** `older[n - 1]` reads version n; the current version is `older.length + 1`. */
  readonly older: readonly Upcaster[];
  readonly current: Current;
  /** The next version: its schema, and how the data of the one before becomes its data. */
  to<Next extends EventSchema>(
    next: Next,
    up: (data: z.output<Current>['data']) => z.input<Next>['data'],
  ): EventHistory<Next>;
};

const typeOf = (schema: EventSchema): string => schema.shape.type.value;

const history = <Current extends EventSchema>(
  older: readonly Upcaster[],
  current: Current,
): EventHistory<Current> => ({
  type: typeOf(current),
  older,
  current,
  to: (next, up) => {
    if (typeOf(next) !== typeOf(current))
      throw new Error(`a version of ${typeOf(current)} cannot be a ${typeOf(next)}: types are never renamed`);
    return history([...older, { schema: current, up: up as (data: unknown) => unknown }], next);
  },
});

/** The history of an event type, starting from its first version (what the first release wrote). */
export const eventHistory = <V1 extends EventSchema>(v1: V1): EventHistory<V1> => history([], v1);

/** A stored event of a version this code does not know: newer code wrote it, or it is damaged. */
export class UnknownEventVersionError extends Error {
  override readonly name = 'UnknownEventVersionError';

  constructor(
    readonly type: string,
    readonly version: unknown,
    readonly current: number,
    where: string,
  ) {
    super(
      typeof version === 'number' && Number.isInteger(version) && version > current
        ? `${type}${where} is version ${version}, newer than this code reads (1 to ${current}): newer code wrote it; run that code, or add version ${version} to ${type}'s history`
        : `${type}${where} has schemaVersion ${JSON.stringify(version) ?? 'undefined'}, not a version (1 to ${current})`,
    );
  }
}

/** A stored event whose data its version's schema refuses (or an upcaster's output its next schema). */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';

  constructor(
    readonly type: string,
    readonly version: number,
    where: string,
    error: z.ZodError,
  ) {
    super(`invalid ${type}${where} (version ${version}): ${z.prettifyError(error)}`, { cause: error });
  }
}

export type EventVersions<Event> = {
  /** The version this code writes `type` at (what the pipeline stamps as `schemaVersion`). */
  readonly eventVersion: (type: string) => number;
  /** A stored event in the current shape; throws UnknownEventVersionError or InvalidEventError. */
  readonly parseEvent: (event: StoredEvent) => Event;
  /** The types with older versions, by type (for tests: every upcaster checked). */
  readonly histories: ReadonlyMap<string, EventHistory>;
};

/**
 * How an aggregate reads its events: `current`, the union of every event's current schema, and
 * the histories of the types that have older versions (each ending in its schema in `current`).
 */
export const eventVersions = <Current extends z.ZodDiscriminatedUnion<EventSchema[], 'type'>>(
  current: Current,
  histories: readonly EventHistory[] = [],
): EventVersions<z.output<Current>> => {
  const byType = new Map<string, EventHistory>();
  for (const h of histories) {
    if (byType.has(h.type)) throw new Error(`${h.type} has two histories`);
    // The very schema in the union, so that the last step and what the code writes cannot drift.
    if (!current.options.includes(h.current))
      throw new Error(`${h.type}'s history does not end in its schema in the event union`);
    byType.set(h.type, h);
  }
  const eventVersion = (type: string) => (byType.get(type)?.older.length ?? 0) + 1;

  const parseEvent = (event: StoredEvent): z.output<Current> => {
    const { type } = event;
    const where =
      event.streamId === undefined
        ? ''
        : ` (stream ${event.streamId}${event.revision === undefined ? '' : `, revision ${event.revision}`})`;
    const latest = eventVersion(type);
    const version = event.metadata === undefined ? latest : event.metadata.schemaVersion;
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || version > latest)
      throw new UnknownEventVersionError(type, version, latest, where);
    let data = event.data;
    const older = byType.get(type)?.older ?? [];
    for (let v = version; v < latest; v++) {
      const step = older[v - 1] as Upcaster;
      const parsed = step.schema.safeParse({ type, data });
      if (!parsed.success) throw new InvalidEventError(type, v, where, parsed.error);
      data = step.up(parsed.data.data);
    }
    const parsed = current.safeParse({ type, data });
    if (!parsed.success) throw new InvalidEventError(type, latest, where, parsed.error);
    return parsed.data;
  };

  return { eventVersion, parseEvent, histories: byType };
};
