/**
 * Wakes live subscriptions of an in-process store when something is appended. A subscriber reads
 * `version` before it reads the log and then waits for a version after that one, so an append that
 * lands between its read and its wait is never missed.
 */
export class AppendSignal {
  #version = 0;
  #waiters = new Set<() => void>();

  get version(): number {
    return this.#version;
  }

  notify(): void {
    this.#version++;
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  /** Resolves once the version moves past `seen`, after `pollMs` at most (for writers in other processes), or on abort. */
  async after(seen: number, pollMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#version !== seen || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, pollMs);
      signal?.addEventListener('abort', done, { once: true });
      this.#waiters.add(done);
    });
  }
}

/**
 * Catch-up then live over any store that can read `$all` in pages: the same loop reads history and
 * then new appends, so there is no switch-over at which an event could be skipped or repeated.
 */
export type Page<E> = {
  events: E[];
  /** Set when the read reached the end of the log: the last position it looked at. */
  scannedTo?: bigint;
  /** Set when the read stopped at an event it could not deliver (a damaged one): thrown after `events`. */
  error?: unknown;
};

export async function* pagedSubscription<E extends { position: bigint }>(
  readPage: (after: bigint | undefined) => Promise<Page<E>> | Page<E>,
  appended: AppendSignal,
  options: {
    after?: bigint;
    signal?: AbortSignal;
    pollMs?: number;
    onCheckpoint?: (position: bigint) => void;
  },
): AsyncGenerator<E> {
  let after = options.after;
  let reported = options.after;
  const { signal, onCheckpoint } = options;
  while (!signal?.aborted) {
    const seen = appended.version;
    const { events, scannedTo, error } = await readPage(after);
    for (const event of events) {
      if (signal?.aborted) return;
      yield event;
      after = event.position;
    }
    if (error !== undefined) throw error;
    if (scannedTo !== undefined) {
      if (onCheckpoint && (reported === undefined || scannedTo > reported)) {
        reported = scannedTo;
        onCheckpoint(scannedTo);
      }
      // Filtered reads may skip past events that do not match: resume after what was scanned.
      if (after === undefined || scannedTo > after) after = scannedTo;
    } else if (events.length > 0) {
      continue; // a full page: read the next one at once
    }
    // Caught up (or the log is still empty): wait for an append instead of spinning.
    await appended.after(seen, options.pollMs ?? 1000, signal);
  }
}
