import { status } from '@grpc/grpc-js';
import type { FilterExpression } from './event-filter.js';
import type { LogPosition } from './log-position.js';
import type { CallStatus } from './outbox.js';
import { type ReadReq, streamsPb } from './protos.js';
import type { UuidForm } from './read-responses.js';

export type AllFrom = 'start' | 'end' | LogPosition;
export type StreamFrom = 'start' | 'end' | number;

export type SubscriptionFilter = FilterExpression & { window: number; multiplier: number };

/** A Streams.Read request, sorted into the cases the server tells apart. */
export type ReadRequest =
  | {
      kind: 'read-stream';
      streamId: string;
      from: StreamFrom;
      backwards: boolean;
      count: number;
      uuid: UuidForm;
    }
  | { kind: 'read-all'; from: AllFrom; backwards: boolean; count: number; uuid: UuidForm }
  | { kind: 'subscribe-all'; from: AllFrom; filter: SubscriptionFilter | undefined; uuid: UuidForm }
  | { kind: 'subscribe-stream'; streamId: string; from: StreamFrom; uuid: UuidForm };

/** A request the server turns down before reading anything. */
export class RequestRefused extends Error {
  constructor(readonly status: CallStatus) {
    super(status.details);
  }
}

/** The server's default page size, and the window of a filter sent without one (`count`). */
export const DEFAULT_READ_BATCH_SIZE = 32;

const { Options } = streamsPb.ReadReq;

export const parseReadRequest = (request: ReadReq): ReadRequest => {
  const options = request.getOptions();
  if (!options) throw refused(status.INVALID_ARGUMENT, "'options' is a required argument");
  const uuidOption = options.getUuidOption();
  if (!uuidOption) {
    throw refused(
      status.INVALID_ARGUMENT,
      "'uuidOption' is a required argument of type EventStore.Client.Streams.ReadReq+Types+Options+Types+UUIDOption",
    );
  }
  const uuid: UuidForm = uuidOption.hasString() ? 'string' : 'structured';
  const backwards = options.getReadDirection() === Options.ReadDirection.BACKWARDS;
  const streamCase = options.getStreamOptionCase();
  const countCase = options.getCountOptionCase();
  const filtered = options.getFilterOptionCase() === Options.FilterOptionCase.FILTER;
  const combination = `(${streamCase}, ${countCase}, ${backwards ? 'Backwards' : 'Forwards'}, ${filtered ? 'Filter' : 'NoFilter'})`;
  const invalidCombination = () =>
    refused(status.INVALID_ARGUMENT, `The combination of ${combination} is invalid.`);

  if (streamCase === Options.StreamOptionCase.STREAM) {
    const stream = options.getStream()!;
    const streamId = Buffer.from(stream.getStreamIdentifier()?.getStreamName_asU8() ?? []).toString('utf8');
    const from: StreamFrom = stream.hasStart()
      ? 'start'
      : stream.hasEnd()
        ? 'end'
        : Number(BigInt(stream.getRevision()));
    if (filtered) throw invalidCombination();
    if (countCase === Options.CountOptionCase.COUNT) {
      return { kind: 'read-stream', streamId, from, backwards, count: Number(options.getCount()), uuid };
    }
    if (countCase === Options.CountOptionCase.SUBSCRIPTION && !backwards) {
      return { kind: 'subscribe-stream', streamId, from, uuid };
    }
    throw invalidCombination();
  }

  if (streamCase === Options.StreamOptionCase.ALL) {
    const from = allFrom(options.getAll()!);
    if (countCase === Options.CountOptionCase.COUNT) {
      if (filtered) throw refused(status.UNIMPLEMENTED, 'Filtered reads of $all: not in the test server');
      return { kind: 'read-all', from, backwards, count: Number(options.getCount()), uuid };
    }
    if (countCase === Options.CountOptionCase.SUBSCRIPTION && !backwards) {
      return { kind: 'subscribe-all', from, filter: filtered ? filterOf(options) : undefined, uuid };
    }
    throw invalidCombination();
  }
  throw refused(status.INVALID_ARGUMENT, `'${streamCase}' is not a valid StreamOptionOneofCase`);
};

type Options = InstanceType<typeof Options>;

const allFrom = (all: InstanceType<typeof Options.AllOptions>): AllFrom => {
  if (all.hasStart()) return 'start';
  if (all.hasEnd()) return 'end';
  const position = all.getPosition();
  const commit = Number(BigInt(position?.getCommitPosition() ?? '0'));
  const prepare = Number(BigInt(position?.getPreparePosition() ?? '0'));
  // The server's Position refuses this in its constructor: the handler throws, gRPC says UNKNOWN.
  if (commit < prepare) throw refused(status.UNKNOWN, 'Exception was thrown by handler.');
  return { commit, prepare };
};

const filterOf = (options: Options): SubscriptionFilter => {
  const filter = options.getFilter()!;
  const expression = filter.getStreamIdentifier() ?? filter.getEventType();
  if (!expression) throw refused(status.INVALID_ARGUMENT, `'${filter}' is not a valid FilterOptions`);
  const multiplier = filter.getCheckpointintervalmultiplier();
  // ArgumentOutOfRangeException in the server's subscription constructor.
  if (multiplier === 0) throw refused(status.UNKNOWN, 'Exception was thrown by handler.');
  return {
    on: filter.hasStreamIdentifier() ? 'stream' : 'type',
    regex: expression.getRegex(),
    prefixes: expression.getPrefixList(),
    window: filter.hasMax() ? filter.getMax() : DEFAULT_READ_BATCH_SIZE,
    multiplier,
  };
};

const refused = (code: status, details: string) => new RequestRefused({ code, details });
