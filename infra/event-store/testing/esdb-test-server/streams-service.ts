import { type ServerWritableStream, status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { append, batchAppend } from './appends.js';
import { type OpenStreams, outboxOf, track } from './outbox.js';
import type { ReadReq, ReadResp } from './protos.js';
import { parseReadRequest, RequestRefused } from './read-request.js';
import { readAll, readStream } from './reads.js';
import { subscribeToAll, subscribeToStream } from './subscriptions.js';
import type { TransactionLog } from './transaction-log.js';

/**
 * event_store.client.streams.Streams: Read (reads and subscriptions), Append, BatchAppend. Delete
 * and Tombstone are left out; grpc-js answers them UNIMPLEMENTED.
 */
export const streamsService = (
  log: TransactionLog,
  streams: OpenStreams,
  { batchAppend: withBatchAppend, issue4970 }: { batchAppend: boolean; issue4970: boolean },
): UntypedServiceImplementation => ({
  read: (call: ServerWritableStream<ReadReq, ReadResp>) => {
    const outbox = outboxOf<ReadResp>(call);
    try {
      const request = parseReadRequest(call.request);
      track(streams, outbox, request.kind.startsWith('subscribe') ? 'subscription' : 'other');
      const served =
        request.kind === 'read-stream'
          ? readStream(log, request, outbox)
          : request.kind === 'read-all'
            ? readAll(log, request, outbox)
            : request.kind === 'subscribe-all'
              ? subscribeToAll(log, request, outbox, { issue4970 })
              : subscribeToStream(log, request, outbox);
      served.catch(() => outbox.fail({ code: status.UNKNOWN, details: 'Exception was thrown by handler.' }));
    } catch (error) {
      if (error instanceof RequestRefused) outbox.fail(error.status);
      else outbox.fail({ code: status.UNKNOWN, details: 'Exception was thrown by handler.' });
    }
  },
  append: append(log),
  // A server without it (before 21.10) is one whose ServerFeatures does not list it; calling it anyway
  // gets UNIMPLEMENTED there too.
  ...(withBatchAppend ? { batchAppend: batchAppend(log, streams) } : {}),
});
