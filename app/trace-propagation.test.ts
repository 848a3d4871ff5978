import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCommandApi } from '../commands/command-api.js';
import { createLruCache } from '../infra/cache/lru-cache.js';
import { positionFromJson } from '../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../infra/event-store/memory-event-store.js';
import { createHttpApp } from '../infra/http/create-http-app.js';
import { createLogger } from '../infra/logger.js';
import { createEmbeddedReadStore } from '../infra/read-store/embedded-read-store.js';
import { startTracing } from '../infra/tracing/start-tracing.js';
import type { Tracing } from '../infra/tracing/tracing.js';
import { startProjections } from '../projections/start-projections.js';
import { loadAppConfig } from './config.js';
import { commandRoutesOf, projectionsOf } from './module.js';
import { fixtureModule } from './testing/fixture-module.js';

/**
 * The trace of a command reaches the projector that applies its events, through the events'
 * metadata: client traceparent → HTTP request span → traceparent in the appended events → the
 * projector's span per event, linked to the request's span. Spans go to an in-memory exporter,
 * through the same startTracing the process uses, so no collector is needed. On the engines' fixture
 * module (app/testing/fixture-module.ts).
 */
const modules = [fixtureModule];
const exporter = new InMemorySpanExporter();
const processor = new SimpleSpanProcessor(exporter);
/** Spans are exported once the resource's attributes are detected, asynchronously: wait for it. */
const finishedSpans = async () => {
  await processor.forceFlush();
  return exporter.getFinishedSpans();
};
let tracing: Tracing;
beforeAll(() => {
  tracing = startTracing({
    serviceName: 'eventfold-test',
    roles: ['write', 'projector'],
    spanProcessors: [processor],
  });
});
afterAll(() => tracing?.shutdown());

const OPEN_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const INCREMENT_TRACE = '5c0a3b2e9d8f4a1b8c7d6e5f4a3b2c1d';
const CLIENT_SPAN = '00f067aa0ba902b7';

describe('trace propagation', () => {
  it('links the projector span of each event to the span of the command that appended it', async () => {
    const logger = createLogger({ level: 'silent' });
    const eventStore = createMemoryEventStore();
    const readStore = createEmbeddedReadStore();
    const cache = createLruCache();
    const app = createHttpApp({ auth: { disabled: true }, logger, bodyLimit: 1024 });
    const config = loadAppConfig({}, modules);
    registerCommandApi(app, {
      eventStore,
      maxRetries: 1,
      instrumentation: { traceparent: tracing.traceparent },
      routes: commandRoutesOf(modules, config),
    });
    const projections = startProjections({
      eventStore,
      readStore,
      logger,
      config,
      projections: projectionsOf(modules, { cache: { cache, ttlSeconds: 60 } }).map(tracing.traceProjection),
    });
    try {
      // Two commands, each from a client trace of its own.
      const send = async (url: string, payload: object, traceId: string) => {
        const response = await app.inject({
          method: 'POST',
          url,
          headers: { traceparent: `00-${traceId}-${CLIENT_SPAN}-01` },
          payload,
        });
        expect(response.statusCode).toBeLessThan(300);
        return positionFromJson(response.json().position) as bigint;
      };
      await send('/counters', { counterId: 'traced', owner: 'Ada' }, OPEN_TRACE);
      const last = await send('/counters/traced/increments', { amount: 5 }, INCREMENT_TRACE);

      // Each event carries the trace of the request that appended it, from a span inside it.
      const events = await eventStore.readStream('counter-traced');
      const causes = events.map((event) => {
        const [, traceId, spanId] = (event.metadata.traceparent ?? '').split('-');
        return { type: event.type, traceId, spanId };
      });
      expect(causes.map((cause) => cause.traceId)).toEqual([OPEN_TRACE, INCREMENT_TRACE]);
      const spanIds = (await finishedSpans()).map((span) => span.spanContext().spanId);
      for (const cause of causes) {
        expect(spanIds).toContain(cause.spanId);
        expect(cause.spanId).not.toBe(CLIENT_SPAN);
      }

      // Each projection's span for an event links back to the span that appended it.
      for (const projection of ['counters', 'counter-changes'])
        expect(await projections.waitForCheckpoint(projection, last, { timeoutMs: 10_000 })).toBe(true);
      const projected = (await finishedSpans())
        .filter((span) => span.name.startsWith('project '))
        .map((span) => ({
          name: span.name,
          type: span.attributes['eventfold.event.type'],
          stream: span.attributes['eventfold.event.stream'],
          links: span.links.map(({ context }) => ({ traceId: context.traceId, spanId: context.spanId })),
          ownTrace: span.spanContext().traceId,
        }));
      const linkTo = (type: string) => {
        const cause = causes.find((c) => c.type === type);
        return [{ traceId: cause?.traceId, spanId: cause?.spanId }];
      };
      expect(projected).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            name: 'project counters',
            type: 'CounterOpened',
            links: linkTo('CounterOpened'),
          }),
          expect.objectContaining({
            name: 'project counters',
            type: 'Incremented',
            links: linkTo('Incremented'),
          }),
          expect.objectContaining({
            name: 'project counter-changes',
            type: 'Incremented',
            stream: 'counter-traced',
            links: linkTo('Incremented'),
          }),
        ]),
      );
      // Linked, not parented: the projector's work is a trace of its own.
      for (const span of projected) expect([OPEN_TRACE, INCREMENT_TRACE]).not.toContain(span.ownTrace);
    } finally {
      await app.close();
      await projections.stop();
    }
  });

  it('leaves probes and scrapes untraced', async () => {
    const app = createHttpApp({
      auth: { disabled: true },
      logger: createLogger({ level: 'silent' }),
      bodyLimit: 1024,
    });
    app.get('/health/live', async () => ({ status: 'up' }));
    app.get('/traced', async () => ({ ok: true }));
    exporter.reset();
    await app.inject({ url: '/health/live' });
    await app.inject({ url: '/traced' });
    await app.close();
    const paths = (await finishedSpans()).map((s) => s.attributes['url.path']);
    expect(paths).toContain('/traced');
    expect(paths).not.toContain('/health/live');
  });
});
