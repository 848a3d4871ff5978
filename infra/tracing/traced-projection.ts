import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { positionToJson, type RecordedEvent } from '../event-store/event-store.js';
import { spanContextOf } from './trace-context.js';
import type { TracedHandler } from './tracing.js';

/**
 * A span per event the projection handles. The span is a new trace's root, LINKED to the command's
 * span rather than its child: it happens later, in another process, batched with other commands'
 * events, so it does not belong inside the request's trace; the link lets a trace viewer jump from
 * one to the other.
 */
export const tracedProjection = <Handler extends TracedHandler>(
  projection: Handler,
  tracer: Tracer,
): Handler => ({
  ...projection,
  handle(event: RecordedEvent) {
    const cause = spanContextOf(event.metadata.traceparent);
    const span = tracer.startSpan(`project ${projection.name}`, {
      kind: SpanKind.CONSUMER,
      root: true,
      links: cause ? [{ context: cause }] : [],
      attributes: {
        'eventfold.projection': projection.name,
        'eventfold.event.type': event.type,
        'eventfold.event.stream': event.streamId,
        'eventfold.event.position': positionToJson(event.position),
        'eventfold.correlation_id': event.metadata.correlationId,
      },
    });
    try {
      return projection.handle(event);
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  },
});
