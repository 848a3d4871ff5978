import { ErrorType, isCommandError } from '@eventstore/db-client';
import { EventStoreUnavailableError } from './event-store.js';

/**
 * What the client raises when the server could not be reached or did not answer in time: worth
 * trying again. After any call fails with UNAVAILABLE the client replaces its channel, and a call
 * started in that moment fails with "UNAVAILABLE: Channel closed before call started", so a
 * reconnect shows up here too. Everything else (INVALID_ARGUMENT included, which the client turns
 * into a non-transient UnknownError) is a fault to report, not to retry.
 */
const TRANSIENT: readonly ErrorType[] = [
  ErrorType.UNAVAILABLE,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.TIMEOUT,
  ErrorType.NOT_LEADER,
];

/** gRPC status codes UNAVAILABLE and DEADLINE_EXCEEDED, for errors the client passes on unconverted. */
const TRANSIENT_GRPC_CODES: readonly unknown[] = [14, 4];

export const isTransientEsdbError = (error: unknown): boolean =>
  error instanceof Error &&
  (isCommandError(error)
    ? TRANSIENT.includes(error.type)
    : // The client asks for the server's features before its first call on a new channel and
      // passes a failure of that request on as grpc-js raised it.
      TRANSIENT_GRPC_CODES.includes((error as { code?: unknown }).code));

/** Runs a call, turning a transient client error into the port's EventStoreUnavailableError. */
export const unavailableOnTransient = async <T>(operation: string, call: () => Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    if (isTransientEsdbError(error)) {
      throw new EventStoreUnavailableError(`EventStoreDB ${operation}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    throw error;
  }
};
