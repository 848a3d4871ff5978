import { performance } from 'node:perf_hooks';
import type { Document, ReadStore, WriteOp } from '../../infra/read-store/read-store.js';
import { sleep } from '../../infra/retry/backoff.js';
import type { Logger } from './logger.js';

export const LEASES = 'projection_leases';

/**
 * One document per projection. Whoever holds an unexpired lease is the only instance that
 * projects; every acquisition bumps `epoch`, which fences checkpoint writes of earlier holders.
 * A reservation (by a rebuild) makes the holder give the lease up at its next renewal and keeps
 * everyone else from taking it until the reservation's owner has.
 */
export type LeaseDocument = Document & {
  owner: string | null;
  epoch: number;
  expiresAt: string;
  reservedBy: string | null;
  reservedUntil: string;
};

const LONG_AGO = new Date(0).toISOString();

export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';

  constructor(readonly projection: string) {
    super(`lease of projection ${projection} lost: another instance may project it now`);
  }
}

/**
 * Lease operations, each one guarded write. Times are ISO strings, which order like the instants
 * they name. They come from the read store's clock (`readStore.now()`: MongoDB's primary, or the
 * process for the embedded store), so instances whose own clocks disagree still agree on expiry.
 * `now` replaces that clock (tests).
 */
export const leaseStore = (
  readStore: ReadStore,
  { now = () => readStore.now() }: { now?: () => Date | Promise<Date> } = {},
) => {
  const docs = readStore.collection<LeaseDocument>(LEASES);
  /** The time now, and `offsetMs` from now, as ISO strings: one reading of the clock per operation. */
  const clock = async () => {
    const ms = (await now()).getTime();
    return (offsetMs = 0) => new Date(ms + offsetMs).toISOString();
  };
  const writeOne = async (op: WriteOp) => (await docs.bulkWrite([op])).applied === 1;

  return {
    /** Takes the lease if it has expired or is ours, and no one else holds a reservation. Returns the epoch. */
    async acquire(projection: string, owner: string, ttlMs: number): Promise<number | undefined> {
      const at = await clock();
      const nowIso = at();
      const took = await writeOne({
        updateOne: {
          filter: {
            _id: projection,
            $and: [
              { $or: [{ expiresAt: { $lt: nowIso } }, { owner }] },
              { $or: [{ reservedBy: owner }, { reservedUntil: { $lt: nowIso } }] },
            ],
          },
          update: {
            $set: { owner, expiresAt: at(ttlMs), reservedBy: null, reservedUntil: LONG_AGO },
            $inc: { epoch: 1 },
          },
          upsert: true, // held by someone else: no match, the upsert collides on _id, nothing changes
        },
      });
      if (!took) return undefined;
      return (await docs.findOne({ _id: projection, owner }))?.epoch;
    },

    /** Extends a lease still held under `epoch`; false when it was lost or someone reserved it. */
    async renew(projection: string, owner: string, epoch: number, ttlMs: number): Promise<boolean> {
      const at = await clock();
      return writeOne({
        updateOne: {
          filter: { _id: projection, owner, epoch, reservedUntil: { $lt: at() } },
          update: { $set: { expiresAt: at(ttlMs) } },
        },
      });
    },

    /** Asks the holder to give the lease up, and keeps it for `owner` for `forMs`. */
    async reserve(projection: string, owner: string, forMs: number): Promise<void> {
      const at = await clock();
      await docs.bulkWrite([
        {
          updateOne: {
            filter: { _id: projection },
            update: {
              $set: { reservedBy: owner, reservedUntil: at(forMs) },
              $setOnInsert: { owner: null, epoch: 0, expiresAt: LONG_AGO },
            },
            upsert: true,
          },
        },
      ]);
    },

    /** Lets the next instance take over at once instead of after the TTL. */
    async release(projection: string, owner: string, epoch: number): Promise<void> {
      await writeOne({
        updateOne: { filter: { _id: projection, owner, epoch }, update: { $set: { expiresAt: LONG_AGO } } },
      });
    },

    read: (projection: string) => docs.findOne({ _id: projection }),
  };
};

export type LeaseStore = ReturnType<typeof leaseStore>;

export type HeldLease = {
  readonly epoch: number;
  /** True while the lease is certainly ours: renewed less than a TTL ago, by this process's clock. */
  valid(): boolean;
  /** Aborts when the lease is lost; the reason is a LeaseLostError. */
  readonly lost: AbortSignal;
  /** Stops renewing and, unless lost, frees the lease for the next instance. */
  release(): Promise<void>;
};

export type HoldLeaseOptions = {
  leases: LeaseStore;
  projection: string;
  owner: string;
  ttlMs: number;
  /** Bound to the projection already (a child logger). */
  logger: Logger;
  /** Stops waiting for the lease: holdLease then resolves undefined. */
  signal: AbortSignal;
  /** Reserve the lease before each attempt: how a rebuild takes over from a running projector. */
  reserve?: boolean;
};

/**
 * Waits until the lease is ours, then keeps renewing it every third of the TTL. A renewal that
 * fails, or that cannot be made before the TTL runs out, loses the lease: `lost` aborts and the
 * projector stops applying. One edge remains, as with any lease: a batch already on its way when
 * the lease runs out may land after the next holder read the checkpoint, which then applies those
 * events again. Guarded writes make that a no-op.
 */
export const holdLease = async ({
  leases,
  projection,
  owner,
  ttlMs,
  logger,
  signal,
  reserve = false,
}: HoldLeaseOptions): Promise<HeldLease | undefined> => {
  const every = Math.max(1, Math.floor(ttlMs / 3));
  let epoch: number | undefined;
  let validUntil = 0;
  while (epoch === undefined) {
    if (signal.aborted) return undefined;
    const started = performance.now();
    try {
      if (reserve) await leases.reserve(projection, owner, 3 * ttlMs);
      epoch = await leases.acquire(projection, owner, ttlMs);
      validUntil = started + ttlMs;
    } catch (error) {
      logger.warn({ err: error }, 'could not reach the read store to take the lease');
    }
    if (epoch === undefined) await sleep(every, signal);
  }
  const held = epoch;

  const lost = new AbortController();
  const lose = () => {
    if (lost.signal.aborted) return;
    clearInterval(timer);
    lost.abort(new LeaseLostError(projection));
    logger.warn({ epoch: held }, 'lease lost: stopped projecting');
  };
  let renewing = false;
  const timer = setInterval(() => {
    if (performance.now() >= validUntil) return lose();
    if (renewing) return;
    renewing = true;
    const started = performance.now();
    leases.renew(projection, owner, held, ttlMs).then(
      (ok) => {
        renewing = false;
        if (ok) validUntil = started + ttlMs;
        else lose();
      },
      (error: unknown) => {
        renewing = false;
        logger.warn({ err: error }, 'lease renewal failed; retrying until the lease runs out');
      },
    );
  }, every);

  return {
    epoch: held,
    valid: () => !lost.signal.aborted && performance.now() < validUntil,
    lost: lost.signal,
    async release() {
      clearInterval(timer);
      if (lost.signal.aborted) return;
      lost.abort(new LeaseLostError(projection));
      try {
        await leases.release(projection, owner, held);
      } catch (error) {
        logger.warn({ err: error }, 'could not release the lease; it expires on its own');
      }
    },
  };
};
