/**
 * Moved to the process-manager engine. Kept only so that app/system.test.ts and
 * app/sigterm-under-load.test.ts compile until they import '../commands/process-manager/checkpoint-stream.js'.
 */
export {
  type CheckpointStream,
  CheckpointTakenError,
  checkpointStream,
} from '../process-manager/checkpoint-stream.js';
