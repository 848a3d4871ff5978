/**
 * A protocol-level test server standing in for EventStoreDB. It is NOT EventStoreDB: it speaks the
 * EventStoreDB gRPC protocol (the client's own generated service definitions and messages, served
 * with grpc-js) over an in-memory transaction log, so that code using the real
 * `@eventstore/db-client` can be tested where no EventStoreDB can run.
 *
 * Implemented: Streams.Read (stream reads forwards/backwards; `$all` reads forwards/backwards;
 * `$all` subscriptions, unfiltered and filtered by stream or event type, prefix or regex, with the
 * client's window and checkpoint multiplier; stream subscriptions), Streams.Append,
 * Streams.BatchAppend (optional), ServerFeatures.GetSupportedMethods; expected revisions and
 * idempotent retries; HTTP/2 flow control and the 100-streams-per-connection limit; a log that
 * starts as a fresh node's does (an epoch record, `$epoch-information`, `$settings`); faults
 * (dropped subscriptions, refused connections, legacy transactions, system events, altered data).
 * Stream metadata: a `$metadata` event appended to `$$<stream>` (the client's setStreamMetadata) is
 * stored like any event, and its `$maxAge` hides the stream's older events from stream reads, by a
 * clock tests can move on (advanceClock). Nothing is ever removed: there is no scavenging, so
 * `$all` reads and subscriptions return expired events, as a real node does until it scavenges.
 * Not implemented: persistence, TLS, authentication and ACLs, other stream metadata ($maxCount,
 * truncation, the metastream's own limit of one event), `$maxAge` on stream subscriptions, deletes
 * and tombstones, link events (resolveLinkTos), filtered reads of `$all` (only filtered
 * subscriptions), persistent subscriptions, projections, users, operations, gossip and clustering,
 * leader election, scavenging, chunk files, append size limits, deadlines.
 *
 * Behaviour is that of KurrentDB 24.10.5+ / 25.0.1+ (checked against github.com/kurrent-io/KurrentDB
 * at 44996ed, and the tags v24.10.0-v24.10.5, v25.0.0, v25.0.1, oss-v23.10.0), files under
 * src/KurrentDB.Core/ (src/EventStore.Core/ in older tags):
 * - Positions (Services/Storage/ReaderIndex/AllReader.cs, Data/ResolvedEvent.cs): a gRPC append
 *   writes each event as an implicitly committed record at (p, p), p where it starts; a legacy
 *   transaction's events are at (its commit record, their own record). A forward read from (C, P)
 *   scans from C and returns events at or after (C, P), so (C, 0) includes the event at C. A
 *   backward read returns events whose (commit record end, record end) is at or before (C, P), so
 *   (C, 0) leaves out the event ending at C and (C, C) keeps it. A stream read cannot tell where a
 *   legacy transaction's event was committed: both positions go out as ulong.MaxValue.
 * - Invalid positions (TransactionLog/Chunks/TFChunk/TFChunkReadSide.cs, StorageReaderWorker.All*.cs,
 *   Services/Transport/Enumerators/): reading from a position that is not a record start fails in
 *   the chunk reader. Subscriptions answer INVALID_ARGUMENT "Trying to read from an invalid
 *   position." after their confirmation; plain `$all` reads UNKNOWN "Unexpected ReadAllResult:
 *   InvalidPosition >> ..." (their enumerators do not map it). The client makes both an
 *   UnknownError. Stricter here: a real node reads nothing from, and so accepts, positions after the
 *   start of its last committed record; this server refuses any position that is not a record
 *   start or the end of the log, because on a real node the same position fails once the log grows.
 * - Subscriptions (Enumerators/Enumerator.AllSubscription*.cs, Enumerator.StreamSubscription.cs,
 *   Services/SubscriptionsService.cs, Storage/ReaderIndex/EventFilter.cs): confirmation first; from
 *   a position, only events after it (oss-v23.10.0 skipped the first event at or after it instead);
 *   catch-up in pages of 32 events, a filtered page also stopping after `window` events looked at.
 *   Filtered: once the events looked at reach window x multiplier, a checkpoint at the later of the
 *   last event sent and the start of the page just read (a record start with prepare 0; an empty
 *   page's start never counts); at the end of catch-up one more by the same rule (so never the end
 *   of the log: the fix of issue #4970, which 25.0.0 has; see the `issue4970` option; 24.10.0-4
 *   sent the end-of-catch-up checkpoint at the last event sent), then CaughtUp. Live, a checkpoint
 *   at the event that completes each window x multiplier events committed since subscribing,
 *   matching or not. Nothing is sent twice or out of order; the live buffer holds 32 items and drops
 *   the oldest, a gap sending the subscription back to catching up (after a checkpoint). `$all`
 *   reads and subscriptions always leave out `$epoch-information`.
 * - Appends (Services/Transport/Grpc/Streams.Append.cs, Streams.BatchAppend.cs, Status.cs,
 *   Services/Storage/ReaderIndex/IndexWriter.cs): success answers the last event's position as
 *   commit and prepare; a wrong expected revision is in-band (Append) or a google.rpc.Status
 *   ALREADY_EXISTS with WrongExpectedVersion details (BatchAppend); retrying events already written
 *   answers where they were written, a partial overlap is a wrong expected revision.
 * - Connections (ClusterVNodeStartup.cs): Kestrel's default of 100 concurrent streams per HTTP/2
 *   connection is kept.
 */
import { randomUUID } from 'node:crypto';
import {
  type handleBidiStreamingCall,
  type handleClientStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  Server,
  ServerCredentials,
  type ServiceDefinition,
  status,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { OpenStreams } from './outbox.js';
import { serverFeaturesGrpc, streamsGrpc } from './protos.js';
import { serverFeaturesService } from './server-features-service.js';
import { streamsService } from './streams-service.js';
import { createTransactionLog, statsEvent, writeNodeStartRecords } from './transaction-log.js';

export type EsdbTestServer = {
  /** 'esdb://127.0.0.1:<port>?tls=false' */
  url: string;
  port: number;
  faults: {
    /**
     * Ends every open subscription with UNAVAILABLE, as a node that shuts down does (KurrentDB 26
     * sends UNAVAILABLE "The server is shutting down..."; older nodes drop the connection, which the
     * client also reports as UNAVAILABLE). The client treats it as transient and reconnects.
     */
    dropSubscriptions(): void;
    /**
     * Shuts down as a node does (open streaming calls end with UNAVAILABLE, connections are closed),
     * refuses connections for `ms`, then listens again on the same port; resolves then. The log survives.
     */
    refuseConnections(ms: number): Promise<void>;
    /** Events written as an old explicit transaction: one commit position (a commit record after them), their own prepare positions. */
    appendLegacyTransaction(
      streamId: string,
      events: Array<{ type: string; data: unknown; metadata?: unknown }>,
    ): void;
    /** A `$`-typed event in a `$`-stream, as nodes write ($stats, $settings...). */
    appendSystemEvent(): void;
    /**
     * Replaces the JSON data of an event already written with `change(data)`, in place (same record,
     * same position), as bit rot or an edit on the node would: what a reader's checksum is for.
     */
    alterEventData(streamId: string, revision: number, change: (data: unknown) => unknown): void;
  };
  /** Moves the node's clock on by `ms`: events written before are that much older for `$maxAge`. */
  advanceClock(ms: number): void;
  /** gRPC calls currently open, abandoned ones included. */
  openCalls(): number;
  stop(): Promise<void>;
};

export type EsdbTestServerOptions = {
  port?: number;
  /** List BatchAppend in ServerFeatures and serve it, as servers from 21.10 do. Default true. */
  batchAppend?: boolean;
  /**
   * Place filtered catch-up checkpoints as KurrentDB 25.0.0 did (issue #4970, fixed in 25.0.1 and
   * 24.10.5): the start of the page just read counts even when the page was empty, so the checkpoint
   * at the end of catch-up can be the end of the log, where the next event is then written. Default false.
   */
  issue4970?: boolean;
};

const MAX_RECEIVE_MESSAGE_LENGTH = 16 * 1024 * 1024;
const SHUTDOWN_GRACE_MS = 100;

const SHUTTING_DOWN = {
  code: status.UNAVAILABLE,
  details: 'The server is shutting down. Please retry after 1 second.',
};

export const startEsdbTestServer = async ({
  port: requestedPort = 0,
  batchAppend = true,
  issue4970 = false,
}: EsdbTestServerOptions = {}): Promise<EsdbTestServer> => {
  const log = createTransactionLog();
  writeNodeStartRecords(log);
  const streams: OpenStreams = new Map();
  let openCalls = 0;
  const counted = countingCalls(
    () => openCalls++,
    () => openCalls--,
  );
  const services: Array<[ServiceDefinition, UntypedServiceImplementation]> = [
    [streamsGrpc.StreamsService, counted(streamsService(log, streams, { batchAppend, issue4970 }))],
    [serverFeaturesGrpc.ServerFeaturesService, counted(serverFeaturesService({ batchAppend }))],
  ];

  let server = await listen(services, requestedPort);
  const port = server.port;
  let stopped = false;
  let restarting: Promise<void> | undefined;
  let endRefusal = () => {};

  // As a node shutting down does it: open streaming calls end with UNAVAILABLE, the connections
  // get a GOAWAY, and whatever is still open shortly after (reads stuck in flow control) is cut.
  const shutDown = async (grpc: Server) => {
    for (const stream of [...streams.keys()]) stream.fail(SHUTTING_DOWN);
    await new Promise<void>((resolve) => {
      const forced = setTimeout(() => {
        grpc.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      grpc.tryShutdown(() => {
        clearTimeout(forced);
        resolve();
      });
    });
  };

  const json = (value: unknown) => new Uint8Array(Buffer.from(JSON.stringify(value ?? null), 'utf8'));

  return {
    url: `esdb://127.0.0.1:${port}?tls=false`,
    port,
    faults: {
      dropSubscriptions() {
        for (const [stream, kind] of [...streams]) if (kind === 'subscription') stream.fail(SHUTTING_DOWN);
      },
      async refuseConnections(ms) {
        await restarting;
        restarting = (async () => {
          await shutDown(server.grpc);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, ms);
            endRefusal = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          if (!stopped) server = await listen(services, port);
        })();
        await restarting;
      },
      appendLegacyTransaction(streamId, events) {
        log.appendLegacyTransaction(
          streamId,
          events.map(({ type, data, metadata }) => ({
            eventId: randomUUID(),
            type,
            isJson: true,
            data: json(data),
            metadata: metadata === undefined ? new Uint8Array() : json(metadata),
          })),
        );
      },
      appendSystemEvent() {
        log.append(`$stats-127.0.0.1:${port}`, 'any', [statsEvent()]);
      },
      alterEventData(streamId, revision, change) {
        const event = log.stream(streamId)?.[revision];
        if (!event) throw new Error(`no event at revision ${revision} of ${streamId}`);
        log.rewriteData(
          streamId,
          revision,
          json(change(JSON.parse(Buffer.from(event.data).toString('utf8')))),
        );
      },
    },
    advanceClock: (ms) => log.advanceClock(ms),
    openCalls: () => openCalls,
    async stop() {
      stopped = true;
      endRefusal();
      await restarting?.catch(() => {});
      await shutDown(server.grpc);
    },
  };
};

const listen = async (
  services: Array<[ServiceDefinition, UntypedServiceImplementation]>,
  port: number,
): Promise<{ grpc: Server; port: number }> => {
  const grpc = new Server({
    // Kestrel's default, which EventStoreDB keeps: the 101st call on a connection waits.
    'grpc.max_concurrent_streams': 100,
    'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_LENGTH,
  });
  for (const [definition, implementation] of services) grpc.addService(definition, implementation);
  const boundPort = await new Promise<number>((resolve, reject) =>
    grpc.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { grpc, port: boundPort };
};

type Call = NodeJS.EventEmitter & { cancelled?: boolean };

/**
 * Wraps every handler so that a call counts as open from its start until it is answered, ended or
 * cancelled: a read the client abandoned without cancelling stays open, as it does on a real node.
 */
const countingCalls =
  (opened: () => void, closed: () => void) =>
  (implementation: UntypedServiceImplementation): UntypedServiceImplementation =>
    Object.fromEntries(
      Object.entries(implementation).map(([name, handler]) => [
        name,
        ((call: Call, callback?: (...args: unknown[]) => void) => {
          opened();
          let done = false;
          const finish = () => {
            if (done) return;
            done = true;
            closed();
          };
          call.once('cancelled', finish);
          if (callback) {
            // Unary and client-streaming: open until answered (their request side closes earlier).
            return (
              handler as handleUnaryCall<unknown, unknown> | handleClientStreamingCall<unknown, unknown>
            )(call as never, (...args: unknown[]) => {
              finish();
              callback(...args);
            });
          }
          call.once('finish', finish);
          call.once('close', finish);
          return (
            handler as handleServerStreamingCall<unknown, unknown> | handleBidiStreamingCall<unknown, unknown>
          )(call as never);
        }) as UntypedHandleCall,
      ]),
    );
