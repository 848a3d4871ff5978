import type { Update, WriteOp } from '../../infra/read-store/read-store.js';

/**
 * The write that makes at-least-once delivery safe: it applies only when the document reflects an
 * older revision of its stream, or does not exist yet. A redelivered or stale event matches no
 * document, its upsert collides on `_id`, and the read store counts it as a duplicate: a no-op.
 * The document records `revision`, the stream revision it now reflects.
 */
export const guardedUpsert = (id: string, revision: number, update: Update): WriteOp => ({
  updateOne: {
    filter: { _id: id, revision: { $lt: revision } },
    update: { ...update, $set: { ...(update.$set as Record<string, unknown> | undefined), revision } },
    upsert: true,
  },
});
