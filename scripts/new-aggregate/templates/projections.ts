import type { AggregateNames } from '../names.js';

/** projections/<plural>/<plural>-projection.ts: the read model, as a pure handler per event. */
export const projectionModule = (n: AggregateNames) => `import { z } from 'zod';
import {
  ${n.pascal}Event,
  ${n.camel}Aggregate,
  ${n.camel}EventTypes,
} from '../../domain/${n.kebabPlural}/${n.kebab}.js';
import { streamIdFor } from '../../domain/shared/decider.js';
import type { Cache } from '../../infra/cache/cache.js';
import type { RecordedEvent } from '../../infra/event-store/event-store.js';
import type { Document } from '../../infra/read-store/read-store.js';
import { cacheDocuments } from '../engine/cache-documents.js';
import { occurredAt } from '../engine/event-time.js';
import { guardedUpsert } from '../engine/guarded-upsert.js';
import type { Projection } from '../engine/projection.js';

export const ${n.constantPlural}_PROJECTION = '${n.kebabPlural}';
export const ${n.constantPlural} = '${n.snakePlural}';
const STREAM_PREFIX = \`\${${n.camel}Aggregate.category}-\`;

/** One per ${n.words}: how it stands as of \`revision\` of its stream. */
export type ${n.pascal}Document = Document & {
  ${n.idField}: string;
  name: string;
  status: 'active' | 'archived';
  revision: number;
  createdAt: string;
  updatedAt: string;
};

/** The cache entry of a ${n.words}: the document without its storage key. */
export const ${n.camel}CacheKey = (${n.idField}: string): string => \`${n.kebab}:\${${n.idField}}\`;
const ${n.camel}Summary = ({ _id, ...summary }: ${n.pascal}Document) => summary;

/**
 * A recorded ${n.words} event, checked against the domain's schemas, in its own stream: documents
 * are guarded by that stream's revision, so an event filed elsewhere would corrupt them. Anything
 * that does not check out throws, and the projector parks the event. (When a second projection
 * reads these events, move this next to it, as projections/accounts/account-event.ts does.)
 */
const read${n.pascal}Event = (recorded: RecordedEvent): { event: ${n.pascal}Event; at: string } => {
  const parsed = ${n.pascal}Event.safeParse(recorded);
  if (!parsed.success) throw new Error(\`invalid \${recorded.type}: \${z.prettifyError(parsed.error)}\`);
  const event = parsed.data;
  const expected = streamIdFor(${n.camel}Aggregate, event.data.${n.idField});
  if (recorded.streamId !== expected)
    throw new Error(
      \`\${event.type} for ${n.words} \${event.data.${n.idField}} is in stream \${recorded.streamId}, not \${expected}\`,
    );
  return { event, at: occurredAt(recorded) };
};

export type ${n.pascalPlural}ProjectionOptions = {
  /** Keeps \`${n.kebab}:<id>\` in the cache fresh after every batch. */
  cache?: { cache: Cache; ttlSeconds: number };
};

/** The \`${n.snakePlural}\` read model: each ${n.words} by id, for GET /${n.kebabPlural}/:id. */
export const ${n.camelPlural}Projection = ({ cache }: ${n.pascalPlural}ProjectionOptions = {}): Projection => ({
  name: ${n.constantPlural}_PROJECTION,
  eventTypes: ${n.camel}EventTypes,
  streamPrefixes: [STREAM_PREFIX],
  // Add indexes here when a list query needs one, e.g. { keys: { status: 1, _id: 1 } }.
  collections: [{ name: ${n.constantPlural} }],

  handle(recorded) {
    const { event, at } = read${n.pascal}Event(recorded);
    const { ${n.idField} } = event.data;
    // Guarded by the stream revision: a redelivered or older event changes nothing.
    const write = (fields: Partial<${n.pascal}Document>) => ({
      [${n.constantPlural}]: [guardedUpsert(${n.idField}, recorded.revision, { $set: { ...fields, updatedAt: at } })],
    });
    switch (event.type) {
      case '${n.pascal}Created':
        return write({ ${n.idField}, name: event.data.name, status: 'active', createdAt: at });
      case '${n.pascal}Renamed':
        return write({ name: event.data.name });
      case '${n.pascal}Archived':
        return write({ status: 'archived' });
    }
  },

  ...(cache && {
    afterFlush: cacheDocuments<${n.pascal}Document>({
      cache: cache.cache,
      collection: ${n.constantPlural},
      key: ${n.camel}CacheKey,
      version: (doc) => doc.revision,
      value: ${n.camel}Summary,
      ttlSeconds: cache.ttlSeconds,
    }),
  }),
});
`;

/** projections/<plural>/<plural>-projection.test.ts: given events, then documents. */
export const projectionTest = (n: AggregateNames) => `import { describe, expect, it } from 'vitest';
import { projectionsOf } from '../../app/module.js';
import { modules } from '../../app/modules.js';
import { createEmbeddedReadStore } from '../../infra/read-store/embedded-read-store.js';
import { applyEvents, projectionSpec, readModel } from '../engine/testing/projection-spec.js';
import { recordedEvents, testTime } from '../engine/testing/recorded-events.js';
import { ${n.constantPlural}_PROJECTION, ${n.camelPlural}Projection } from './${n.kebabPlural}-projection.js';

const stream = '${n.category}-a';
const created = { streamId: stream, type: '${n.pascal}Created', data: { ${n.idField}: 'a', name: 'First' } };
const renamed = { streamId: stream, type: '${n.pascal}Renamed', data: { ${n.idField}: 'a', name: 'Second' } };
const archived = { streamId: stream, type: '${n.pascal}Archived', data: { ${n.idField}: 'a' } };

const document = (fields: Record<string, unknown>) => ({
  _id: 'a',
  ${n.idField}: 'a',
  name: 'First',
  status: 'active',
  revision: 0,
  createdAt: testTime(1),
  updatedAt: testTime(1),
  ...fields,
});

describe('${n.kebabPlural} projection', () => {
  const spec = projectionSpec(${n.camelPlural}Projection());

  it("is one of the app's projections (its module is in app/modules.ts)", () => {
    expect(projectionsOf(modules, {}).map((projection) => projection.name)).toContain(${n.constantPlural}_PROJECTION);
  });

  it('${n.pascal}Created: an active ${n.words}', () =>
    spec.given(recordedEvents([created])).then({ ${n.snakePlural}: [document({})] }));

  it('${n.pascal}Renamed: the new name, and the revision it reflects', () =>
    spec
      .given(recordedEvents([created, renamed]))
      .then({ ${n.snakePlural}: [document({ name: 'Second', revision: 1, updatedAt: testTime(2) })] }));

  it('${n.pascal}Archived: archived, name kept', () =>
    spec.given(recordedEvents([created, renamed, archived])).then({
      ${n.snakePlural}: [document({ name: 'Second', status: 'archived', revision: 2, updatedAt: testTime(3) })],
    }));

  it('rejects event data the domain schema refuses (the projector parks it)', () =>
    spec.given(recordedEvents([{ ...created, data: { ${n.idField}: 'a', name: ' ' } }])).thenThrows(/name/));

  it('rejects an event filed under another ${n.words}’s stream', () =>
    spec.given(recordedEvents([{ ...created, streamId: '${n.category}-b' }])).thenThrows(/is in stream/));

  it('replaying, twice or out of order, gives the same read model', async () => {
    const projection = ${n.camelPlural}Projection();
    const events = recordedEvents([created, renamed, archived]);
    const once = createEmbeddedReadStore();
    await applyEvents(once, projection, events);
    const again = createEmbeddedReadStore();
    await applyEvents(again, projection, [...events, ...events.toReversed()]);
    expect(await readModel(again, projection)).toEqual(await readModel(once, projection));
  });
});
`;

/** projections/<plural>/index.ts: the module's read models. */
export const projectionsIndex = (
  n: AggregateNames,
) => `import type { ModuleProjections } from '../projection-module.js';
import { ${n.camelPlural}Projection } from './${n.kebabPlural}-projection.js';

/** The ${n.kebabPlural} module's read model (composed into the module in app/modules/${n.kebabPlural}.ts). */
export const ${n.camel}Projections: ModuleProjections = ({ cache }) => [${n.camelPlural}Projection({ cache })];
`;
