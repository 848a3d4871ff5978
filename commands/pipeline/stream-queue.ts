/**
 * Runs tasks one at a time per key, in the order they came, and tasks of different keys
 * concurrently. A task's failure is its caller's; the next task of the key runs regardless.
 */
export const createStreamQueue = () => {
  const tails = new Map<string, Promise<void>>();
  const run = <T>(key: string, task: () => Promise<T>): Promise<T> => {
    const result = (tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.then(
      () => {},
      () => {},
    );
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return result;
  };
  return {
    run,
    /** Keys with a task running or waiting. */
    get size() {
      return tails.size;
    },
  };
};

export type StreamQueue = ReturnType<typeof createStreamQueue>;
