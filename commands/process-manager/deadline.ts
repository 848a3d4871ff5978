/**
 * Deadlines. A process manager's decision judges a deadline between steps (the time comes in as
 * an argument); the engine's part is to be awake for it: a key whose steps keep failing is
 * retried with backoff, but never later than its deadline, so it is still judged (and, say,
 * failed and compensated) on time. Past the deadline, retries back off as usual.
 */
export const retryDelayBefore = (delayMs: number, deadline: number | undefined, now: number): number => {
  const untilDeadline = deadline === undefined ? 0 : deadline - now;
  return untilDeadline > 0 ? Math.min(delayMs, untilDeadline) : delayMs;
};
