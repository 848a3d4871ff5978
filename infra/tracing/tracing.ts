import type { RecordedEvent } from '../event-store/event-store.js';

/**
 * Tracing as the rest of the system sees it. Types only: the OpenTelemetry SDK is loaded (by
 * start-tracing.ts, imported lazily) only when OTEL_EXPORTER_OTLP_ENDPOINT is set; with tracing
 * off, nothing of it is in the process.
 */
/**
 * What tracing wraps: a named handler of recorded events, such as a projection
 * (projections/engine/projection.ts). Infra imports no layer, so it names only what it uses.
 */
export type TracedHandler = { readonly name: string; handle(event: RecordedEvent): unknown };

export type Tracing = {
  /** The W3C traceparent of the active span, for the metadata of the events a command appends. */
  traceparent(): string | undefined;
  /**
   * The projection, with a span per event it handles, linked to the span of the command that
   * appended the event (from its metadata's traceparent).
   */
  traceProjection<Handler extends TracedHandler>(projection: Handler): Handler;
  /** Sends the spans still buffered and stops the SDK. */
  shutdown(): Promise<void>;
};
