import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { jobAggregate } from './testing/job-domain.js';
import { jobs } from './testing/jobs.js';

let store: EventStore;
let j: ReturnType<typeof jobs>;

beforeEach(() => {
  store = createMemoryEventStore();
  j = jobs(store);
});
afterEach(() => j.outcomes.stop());

const finish = (jobId: string) =>
  j.handle(
    jobAggregate,
    jobId,
    { type: 'FinishJob', jobId },
    { correlationId: `corr-${jobId}`, causationId: 'x' },
  );

describe('outcome waiter', () => {
  it('answers at once with an outcome already in the stream', async () => {
    await j.start('j1', 'x', 1);
    await finish('j1');
    expect((await j.outcomes.wait('job-j1', { timeoutMs: 1_000 }))?.type).toBe('JobFinished');
  });

  it('waits for an outcome still to come', async () => {
    await j.start('j1', 'x', 1);
    const waiting = j.outcomes.wait('job-j1', { timeoutMs: 5_000 });
    await expect.poll(() => j.outcomes.waiting).toBe(1);
    await finish('j1');
    expect((await waiting)?.type).toBe('JobFinished');
    expect(j.outcomes.waiting).toBe(0);
  });

  it('hands an outcome only to the waiters of its own stream', async () => {
    await j.start('j1', 'x', 1, { correlationId: 'same' });
    await j.start('j2', 'x', 1, { correlationId: 'same' });
    const first = j.outcomes.wait('job-j1', { timeoutMs: 300 });
    const second = j.outcomes.wait('job-j2', { timeoutMs: 5_000 });
    await j.handle(
      jobAggregate,
      'j2',
      { type: 'FinishJob', jobId: 'j2' },
      { correlationId: 'same', causationId: 'x' },
    );
    expect((await second)?.streamId).toBe('job-j2');
    expect(await first).toBeUndefined();
  });

  it('answers undefined for a stream that does not exist, after the timeout, or when the caller gives up', async () => {
    expect(await j.outcomes.wait('job-nope', { timeoutMs: 1_000 })).toBeUndefined();
    await j.start('j1', 'x', 1);
    expect(await j.outcomes.wait('job-j1', { timeoutMs: 20 })).toBeUndefined();
    const hangUp = new AbortController();
    const waiting = j.outcomes.wait('job-j1', { timeoutMs: 5_000, signal: hangUp.signal });
    hangUp.abort();
    expect(await waiting).toBeUndefined();
  });

  it('lets every waiter go on stop()', async () => {
    await j.start('j1', 'x', 1);
    const waiting = j.outcomes.wait('job-j1', { timeoutMs: 5_000 });
    await expect.poll(() => j.outcomes.waiting).toBe(1);
    j.outcomes.stop();
    expect(await waiting).toBeUndefined();
  });
});
