/**
 * Resolves true once `projection` has processed every event up to `position` (its checkpoint is at
 * or past it), false when `timeoutMs` passes or `signal` aborts first. Two implementations: the
 * projector's in-process notifications, and polling the checkpoints collection (poll-checkpoints.ts)
 * for a read API that runs in a process of its own.
 */
export type WaitForCheckpoint = (
  projection: string,
  position: bigint,
  options: { timeoutMs: number; signal?: AbortSignal },
) => Promise<boolean>;
