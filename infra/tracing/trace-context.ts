import { type Context, context, defaultTextMapSetter, type SpanContext } from '@opentelemetry/api';
import { parseTraceParent, W3CTraceContextPropagator } from '@opentelemetry/core';

// Always W3C, whatever OTEL_PROPAGATORS says: the event metadata field is a W3C traceparent.
const w3c = new W3CTraceContextPropagator();

/** The traceparent of the span active in `from` (default: the current context); undefined without one. */
export const traceparentOf = (from: Context = context.active()): string | undefined => {
  const carrier: Record<string, string> = {};
  w3c.inject(from, carrier, defaultTextMapSetter);
  return carrier.traceparent;
};

/** The span context a traceparent names, to link to; undefined when absent or malformed. */
export const spanContextOf = (traceparent: string | undefined): SpanContext | undefined =>
  (traceparent === undefined ? null : parseTraceParent(traceparent)) ?? undefined;
