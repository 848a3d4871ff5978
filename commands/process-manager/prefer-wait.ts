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
