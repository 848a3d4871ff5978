import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { createCommandHandler } from '../pipeline/handle-command.js';
import { findStep, runStep, stepKey } from './step-keys.js';
import { tallyAggregate } from './testing/job-domain.js';

const setup = () => {
  const eventStore = createMemoryEventStore();
  const handle = createCommandHandler({ eventStore, maxRetries: 5, backoffMs: 1 });
  const add = (key: string, amount = 5) =>
    runStep(
      { handle, eventStore },
      tallyAggregate,
      'x',
      { type: 'Add', tallyId: 'x', amount },
      {
        key,
        correlationId: 'c',
        causationId: 'cause',
      },
    );
  return { eventStore, handle, add };
};

describe('step keys', () => {
  it('name a step by its process, key and step', () => {
    expect(stepKey('job', 'j1', 'add')).toBe('job:j1:add');
  });

  it('run a step once however often it is repeated, and answer each repeat with the same event', async () => {
    const { eventStore, add } = setup();
    const first = await add(stepKey('job', 'j1', 'add'));
    const again = await add(stepKey('job', 'j1', 'add'));
    expect('event' in first && 'event' in again && again.event.metadata.eventId).toBe(
      'event' in first && first.event.metadata.eventId,
    );
    const events = await eventStore.readStream('tally-x');
    expect(events).toHaveLength(1);
    expect(findStep(events, 'job:j1:add')?.metadata).toMatchObject({
      correlationId: 'c',
      causationId: 'cause',
    });
    expect(findStep(events, 'job:j2:add')).toBeUndefined();
  });

  it('answer a step a domain rule refuses with the rule, and append nothing', async () => {
    const { eventStore, handle, add } = setup();
    await handle(
      tallyAggregate,
      'x',
      { type: 'CloseTally', tallyId: 'x' },
      { correlationId: 'c', causationId: 'c' },
    );
    expect(await add('job:j1:add')).toEqual({ refused: 'tally_closed' });
    expect(await eventStore.readStream('tally-x')).toHaveLength(1);
  });

  it('refuse the same key for a different command (the pipeline compares their hashes)', async () => {
    const { add } = setup();
    await add('job:j1:add', 5);
    await expect(add('job:j1:add', 6)).rejects.toThrow(/Idempotency-Key/);
  });
});
