import { createRequire } from 'node:module';

/**
 * The message classes and service definitions the client itself ships (generated from the server's
 * protos), loaded from the client's own directory so that both sides share one copy: the generated
 * serializers check `instanceof` against these very classes.
 */
const clientRequire = createRequire(
  createRequire(import.meta.url).resolve('@eventstore/db-client/package.json'),
);

export const streamsPb: typeof import('@eventstore/db-client/generated/streams_pb.js') =
  clientRequire('./generated/streams_pb.js');
export const streamsGrpc: typeof import('@eventstore/db-client/generated/streams_grpc_pb.js') = clientRequire(
  './generated/streams_grpc_pb.js',
);
export const sharedPb: typeof import('@eventstore/db-client/generated/shared_pb.js') =
  clientRequire('./generated/shared_pb.js');
export const statusPb: typeof import('@eventstore/db-client/generated/status_pb.js') =
  clientRequire('./generated/status_pb.js');
export const codePb: typeof import('@eventstore/db-client/generated/code_pb.js') =
  clientRequire('./generated/code_pb.js');
export const serverFeaturesPb: typeof import('@eventstore/db-client/generated/serverfeatures_pb.js') =
  clientRequire('./generated/serverfeatures_pb.js');
export const serverFeaturesGrpc: typeof import('@eventstore/db-client/generated/serverfeatures_grpc_pb.js') =
  clientRequire('./generated/serverfeatures_grpc_pb.js');
export const anyPb: typeof import('google-protobuf/google/protobuf/any_pb.js') = clientRequire(
  'google-protobuf/google/protobuf/any_pb.js',
);
export const emptyPb: typeof import('google-protobuf/google/protobuf/empty_pb.js') = clientRequire(
  'google-protobuf/google/protobuf/empty_pb.js',
);

export type ReadReq = InstanceType<typeof streamsPb.ReadReq>;
export type ReadResp = InstanceType<typeof streamsPb.ReadResp>;
export type AppendReq = InstanceType<typeof streamsPb.AppendReq>;
export type AppendResp = InstanceType<typeof streamsPb.AppendResp>;
export type BatchAppendReq = InstanceType<typeof streamsPb.BatchAppendReq>;
export type BatchAppendResp = InstanceType<typeof streamsPb.BatchAppendResp>;
