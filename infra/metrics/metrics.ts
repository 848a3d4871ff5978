import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { EventData, EventStore } from '../event-store/event-store.js';
import type { HttpApp } from '../http/create-http-app.js';
import { type MetricsAccess, metricsAccessHook } from './metrics-access.js';

/** Seconds; from a cached read (about a millisecond) to a read that waited for a position. */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * How one command ended, as the command pipeline's instrumentation reports it
 * (commands/pipeline/instrument-commands.ts): infra describes what it counts and imports no layer.
 */
export type CountedCommand = { command: string; outcome: string; reason: string };

export type Metrics = {
  /** This process's registry: every series below, plus Node's default process metrics. */
  readonly registry: Registry;
  /**
   * Times every request by route pattern and status, and serves GET /metrics: to METRICS_TOKEN when
   * `access.token` is set, else to an admin (metrics-access.ts).
   */
  registerRoutes(app: HttpApp, access?: MetricsAccess): void;
  /** Counts a command's outcome: hand it to the command pipeline's instrumentation. */
  countCommand(outcome: CountedCommand): void;
  /** The event store, counting every event it appends by type. */
  countAppends(eventStore: EventStore): EventStore;
};

/**
 * The metrics of one process, in a registry of its own (not prom-client's global one), so tests
 * and several systems in one process do not share series. Counters that must be counted where
 * things happen live here; everything a component already counts is read at scrape time
 * (scrape-collectors.ts).
 */
export const createMetrics = ({ defaultMetrics = true }: { defaultMetrics?: boolean } = {}): Metrics => {
  const registry = new Registry();
  if (defaultMetrics) collectDefaultMetrics({ register: registry });

  const httpDuration = new Histogram({
    name: 'eventfold_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });
  const commands = new Counter({
    name: 'eventfold_commands_total',
    help: 'Commands handled, by command type, outcome (accepted, rejected, failed) and reason',
    labelNames: ['command', 'outcome', 'reason'] as const,
    registers: [registry],
  });
  const appended = new Counter({
    name: 'eventfold_events_appended_total',
    help: 'Events appended to the event store by this process, by event type',
    labelNames: ['event_type'] as const,
    registers: [registry],
  });

  const countAppended = (events: readonly EventData[]) => {
    for (const event of events) appended.inc({ event_type: event.type });
  };

  return {
    registry,

    registerRoutes(app, access = {}) {
      app.addHook('onResponse', async (request, reply) => {
        // The route's pattern, not the URL: one series per route, whatever ids clients send.
        const route = request.routeOptions.url ?? 'unmatched';
        httpDuration.observe(
          { method: request.method, route, status_code: String(reply.statusCode) },
          reply.elapsedTime / 1000,
        );
      });
      app.get(
        '/metrics',
        {
          schema: { hide: true },
          logLevel: 'warn',
          config: { public: true },
          onRequest: metricsAccessHook(access),
        },
        async (_request, reply) => {
          reply.type(registry.contentType).header('cache-control', 'no-store');
          return registry.metrics();
        },
      );
    },

    countCommand({ command, outcome, reason }) {
      commands.inc({ command, outcome, reason });
    },

    countAppends: (eventStore) => ({
      ...eventStore,
      async append(streamId, events, options) {
        const result = await eventStore.append(streamId, events, options);
        countAppended(events);
        return result;
      },
    }),
  };
};
