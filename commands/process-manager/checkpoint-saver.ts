import type { Position } from '../../infra/event-store/event-store.js';
import type { CheckpointStream } from './checkpoint-stream.js';
import type { CommitTracker } from './commit-tracker.js';

/**
 * When a process manager's checkpoint is worth an append. Each save is an event in `$all` that
 * moves the subscription's position again, so "save whenever the position moved" saves forever,
 * even on an idle log (once per interval, or once per 32 events looked at on EventStoreDB). So:
 * - after handling an event: save at the next tick; a restart must not redo that work.
 * - past positions only scanned: replaying them after a restart costs a rescan and no work (the
 *   filter drops them), so save them only every `scanIntervalMs` (bounding that rescan on a busy
 *   log with nothing for this process) or when the session ends (a rare, bounded write), and never
 *   when nothing lies past our own last checkpoint event but that event itself.
 */
export const createCheckpointSaver = ({
  stream,
  tracker,
  start,
  now,
  scanIntervalMs,
}: {
  stream: CheckpointStream;
  tracker: CommitTracker;
  /** The checkpoint the session loaded. */
  start: Position | undefined;
  now: () => number;
  scanIntervalMs: number;
}) => {
  let saved = start;
  let savedAt = now();

  const due = (ending: boolean) => {
    const position = tracker.position;
    if (position === undefined || (saved !== undefined && position <= saved)) return false;
    const handled = tracker.handled;
    if (handled !== undefined && (saved === undefined || handled > saved)) return true;
    const own = stream.written();
    if (own !== undefined && position <= own) return false;
    return ending || now() - savedAt >= scanIntervalMs;
  };

  return {
    /** Saves the tracker's position if that is due; `ending`: the session ends. */
    async save(ending = false): Promise<void> {
      const position = tracker.position;
      if (position === undefined || !due(ending)) return;
      await stream.save(position);
      saved = position;
      savedAt = now();
    },
  };
};
