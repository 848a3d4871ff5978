/**
 * Deadlines. A process manager's decision judges a deadline between steps (the time comes in as
 * an argument); the engine's part is to be awake for it: a key whose steps keep failing is
 * retried with backoff, but never later than its deadline, so it is still judged (and, say,
 * failed and compensated) on time. A pass that started before the deadline and failed after it
 * is followed by one at once, which judges it; past that, retries back off as usual.
 */
export const retryDelayBefore = (
  delayMs: number,
  deadline: number | undefined,
  now: number,
  passStartedAt: number = now,
): number => {
  if (deadline === undefined) return delayMs;
  if (deadline > now) return Math.min(delayMs, deadline - now);
  return passStartedAt < deadline ? 0 : delayMs;
};
