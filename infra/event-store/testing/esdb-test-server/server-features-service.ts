import type { ServerUnaryCall, sendUnaryData, UntypedServiceImplementation } from '@grpc/grpc-js';
import { serverFeaturesPb } from './protos.js';

/** The server version reported: the one whose behaviour the test server follows. */
export const MODELLED_SERVER_VERSION = '25.0.1';

type Method = { service: string; method: string; features?: string[] };

/**
 * ServerFeatures.GetSupportedMethods, lower-cased as the server lists them (ServerFeatures.cs). The
 * client appends with BatchAppend only when it is listed here. Only what this server implements is
 * listed; a real node lists every service it hosts.
 */
export const serverFeaturesService = ({
  batchAppend,
}: {
  batchAppend: boolean;
}): UntypedServiceImplementation => {
  const methods: Method[] = [
    { service: 'event_store.client.streams.streams', method: 'read', features: ['position', 'events'] },
    { service: 'event_store.client.streams.streams', method: 'append' },
    ...(batchAppend
      ? [
          {
            service: 'event_store.client.streams.streams',
            method: 'batchappend',
            features: ['deadline_duration'],
          },
        ]
      : []),
    { service: 'event_store.client.server_features.serverfeatures', method: 'getsupportedmethods' },
  ];
  const supported = new serverFeaturesPb.SupportedMethods()
    .setEventStoreServerVersion(MODELLED_SERVER_VERSION)
    .setMethodsList(
      methods.map(({ service, method, features = [] }) =>
        new serverFeaturesPb.SupportedMethod()
          .setServiceName(service)
          .setMethodName(method)
          .setFeaturesList(features),
      ),
    );
  return {
    getSupportedMethods: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) =>
      callback(null, supported),
  };
};
