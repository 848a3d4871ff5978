import { createWaiterCap } from '../../infra/http/waiter-cap.js';

/**
 * `Prefer: wait=N` (RFC 7240 §4.3): the client would rather wait up to N seconds for the final
 * answer than get 202 and poll. Returns the seconds to wait, capped at `maxSeconds`, or undefined
 * when the request prefers no wait.
 *
 * RFC 7240 asks a server to ignore preferences it does not understand, so a Prefer header without
 * a well-formed `wait` (wait=soon, wait=-1, a bare `wait`) is ignored, never refused. Of several
 * `wait` preferences the first counts (§2). `wait=0` asks for no wait.
 */
export const preferredWait = (
  header: string | string[] | undefined,
  maxSeconds: number,
): number | undefined => {
  if (header === undefined) return undefined;
  // Repeated headers may come as an array or joined with ", ": both are one comma-separated list.
  const preferences = (Array.isArray(header) ? header.join(',') : header).split(',');
  for (const preference of preferences) {
    // Parameters after ";" do not apply to wait.
    const [token = ''] = preference.split(';');
    const match = /^\s*wait\s*=\s*(?:"(\d{1,10})"|(\d{1,10}))\s*$/i.exec(token);
    if (!/^\s*wait\s*(=|$)/i.test(token)) continue;
    if (!match) return undefined;
    const seconds = Number(match[1] ?? match[2]);
    return seconds === 0 ? undefined : Math.min(seconds, maxSeconds);
  }
  return undefined;
};

/** A wait a request may make: how long, and the slot it holds until `release()`. */
export type GrantedWait = { seconds: number; release: () => void };

/**
 * `Prefer: wait` with a bound on the requests waiting at once (TRANSFER_WAIT_MAX_WAITERS): each
 * holds a connection while it waits, and enough of them would hold every connection the server
 * allows. Undefined when the request prefers no wait, or when every slot is taken: then the request
 * is answered at once, as if it had not asked. That is not a 503, because by then its command has
 * run: a 503 would tell the client it failed and send it to retry, while RFC 7240 lets a server
 * ignore a preference, and the 202 without Preference-Applied says it did.
 */
export const createPreferWait = ({ maxSeconds, maxWaiters }: { maxSeconds: number; maxWaiters: number }) => {
  const cap = createWaiterCap(maxWaiters);
  return (header: string | string[] | undefined): GrantedWait | undefined => {
    const seconds = preferredWait(header, maxSeconds);
    if (seconds === undefined) return undefined;
    const release = cap.take();
    return release && { seconds, release };
  };
};
