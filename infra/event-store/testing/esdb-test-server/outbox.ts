import type { Writable } from 'node:stream';
import type { Metadata, StatusObject } from '@grpc/grpc-js';

export type CallStatus = Pick<StatusObject, 'code' | 'details'> & { metadata?: Metadata };

/**
 * The sending side of a server-streaming or bidi call, with HTTP/2 flow control honoured: `send`
 * resolves only once the call can take more (after 'drain' when the write buffer is full), so a
 * client that stops reading stops the server, and its call stays open as on a real server.
 */
export type Outbox<T> = {
  /** False once the call is over (cancelled by the client, or ended here): stop sending. */
  send(message: T): Promise<boolean>;
  /** Ends the call with OK after everything sent so far. */
  end(): void;
  /** Ends the call with this status after everything sent so far. */
  fail(status: CallStatus): void;
  readonly isOpen: boolean;
  /** Settles when the call is over, however it ended. */
  readonly closed: Promise<void>;
};

type ServerStream = Writable & { cancelled: boolean };

export const outboxOf = <T>(call: ServerStream): Outbox<T> => {
  let isOpen = !call.cancelled;
  // Wakes a send waiting for 'drain' when the call ends instead (sends are one at a time).
  let stopWaiting: (() => void) | undefined;
  let markClosed = () => {};
  const closed = new Promise<void>((resolve) => {
    markClosed = () => {
      isOpen = false;
      stopWaiting?.();
      resolve();
    };
  });
  if (!isOpen) markClosed();
  call.once('cancelled', markClosed);
  call.once('close', markClosed);
  call.once('finish', markClosed);
  // A write after the client went away fails; the call is over either way.
  call.on('error', markClosed);

  const drained = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        call.off('drain', done);
        stopWaiting = undefined;
        resolve();
      };
      call.once('drain', done);
      stopWaiting = done;
    });

  const finish = (status?: CallStatus) => {
    if (!isOpen) return;
    isOpen = false;
    // grpc-js sends an 'error' event's status as the call's trailers once earlier writes are out.
    if (status) call.emit('error', { ...status, metadata: status.metadata });
    else call.end();
  };

  return {
    async send(message) {
      if (!isOpen) return false;
      if (!call.write(message)) await drained();
      return isOpen;
    },
    end: () => finish(),
    fail: (status) => finish(status),
    get isOpen() {
      return isOpen;
    },
    closed,
  };
};

/** Open streaming calls and what they are, so that faults can end them. */
export type OpenStreams = Map<{ fail(status: CallStatus): void }, 'subscription' | 'other'>;

export const track = (streams: OpenStreams, outbox: Outbox<never>, kind: 'subscription' | 'other') => {
  streams.set(outbox, kind);
  void outbox.closed.then(() => streams.delete(outbox));
};
