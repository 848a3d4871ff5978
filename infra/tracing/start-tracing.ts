import { FastifyOtelInstrumentation } from '@fastify/otel';
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK, resources } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { traceparentOf } from './trace-context.js';
import { tracedProjection } from './traced-projection.js';
import type { Tracing } from './tracing.js';

export type StartTracingOptions = {
  serviceName: string;
  /** Resource attribute eventfold.roles, so spans tell which process of a split deployment made them. */
  roles: readonly string[];
  /**
   * Where spans go. Default: batched to the OTLP/HTTP exporter, which reads the standard
   * OTEL_EXPORTER_OTLP_* variables (endpoint, headers, timeout). Tests pass an in-memory exporter.
   */
  spanProcessors?: SpanProcessor[];
};

/** Probes and scrapes would fill the traces with noise. */
const UNTRACED = /^\/(health\/|metrics)/;

/**
 * Starts the OpenTelemetry SDK: spans for incoming HTTP requests (node:http) and for Fastify's
 * routes and hooks (@fastify/otel, attached to every Fastify instance created from now on), W3C
 * trace context propagation, and the projector spans of traced-projection.ts. Start it before the
 * HTTP server is created.
 */
export const startTracing = ({ serviceName, roles, spanProcessors }: StartTracingOptions): Tracing => {
  const sdk = new NodeSDK({
    serviceName,
    resource: resources
      .defaultResource()
      .merge(resources.resourceFromAttributes({ 'eventfold.roles': roles.join(',') })),
    // Traces only: metrics are Prometheus's (/metrics) and logs are pino's, on stdout.
    metricReaders: [],
    logRecordProcessors: [],
    ...(spanProcessors ? { spanProcessors } : { traceExporter: new OTLPTraceExporter() }),
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => UNTRACED.test(request.url ?? '') }),
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        ignorePaths: (route) => UNTRACED.test(route.url),
      }),
    ],
  });
  sdk.start();
  const tracer = trace.getTracer('eventfold');
  return {
    traceparent: () => traceparentOf(),
    traceProjection: (projection) => tracedProjection(projection, tracer),
    shutdown: () => sdk.shutdown(),
  };
};
