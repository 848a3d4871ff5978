import { describe, expect, it } from 'vitest';
import { counterAggregate } from '../../domain/shared/testing/counter.js';
import { EventStoreUnavailableError } from '../../infra/event-store/event-store.js';
import { createMemoryEventStore } from '../../infra/event-store/memory-event-store.js';
import { withFaults } from '../../infra/event-store/testing/fault-injector.js';
import { createCommandHandler } from './handle-command.js';
import { type CommandOutcome, instrumentCommands } from './instrument-commands.js';

const setUp = (traceparent?: () => string | undefined) => {
  const eventStore = createMemoryEventStore();
  const outcomes: CommandOutcome[] = [];
  const handle = instrumentCommands(createCommandHandler({ eventStore, maxRetries: 1 }), {
    onOutcome: (outcome) => outcomes.push(outcome),
    traceparent,
  });
  return { eventStore, outcomes, handle };
};

const context = { correlationId: 'c-1', causationId: 'c-1' };
const open = { type: 'OpenCounter' as const, counterId: 'a1', owner: 'Ada' };
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('instrumentCommands', () => {
  it('reports accepted commands, idempotent replays and domain rejections with their code', async () => {
    const { handle, outcomes } = setUp();
    const idempotency = { key: 'k-1', requestHash: 'h-1' };
    await handle(counterAggregate, 'a1', open, { ...context, idempotency });
    await handle(counterAggregate, 'a1', open, { ...context, idempotency });
    await expect(handle(counterAggregate, 'a1', open, context)).rejects.toThrow('already exists');
    const decrement = { type: 'Decrement' as const, counterId: 'a1', amount: 5 };
    await expect(handle(counterAggregate, 'a1', decrement, context)).rejects.toThrow('less than');

    expect(outcomes).toEqual([
      { command: 'OpenCounter', outcome: 'accepted', reason: 'appended' },
      { command: 'OpenCounter', outcome: 'accepted', reason: 'replayed' },
      { command: 'OpenCounter', outcome: 'rejected', reason: 'counter_exists' },
      { command: 'Decrement', outcome: 'rejected', reason: 'below_zero' },
    ]);
  });

  it('tells an unreachable store and a bug apart among failures', async () => {
    const outcomes: CommandOutcome[] = [];
    let down = true;
    const eventStore = withFaults(createMemoryEventStore(), {
      readStream: () => down,
      error: (message) => new EventStoreUnavailableError(message),
    });
    const handle = instrumentCommands(
      createCommandHandler({ eventStore, maxRetries: 1, unavailable: { attempts: 1, backoffMs: 0 } }),
      { onOutcome: (outcome) => outcomes.push(outcome) },
    );
    await expect(handle(counterAggregate, 'a1', open, context)).rejects.toThrow();
    down = false;
    const broken = {
      ...counterAggregate,
      decider: {
        ...counterAggregate.decider,
        decide: () => {
          throw new Error('a bug');
        },
      },
    };
    await handle(counterAggregate, 'a1', open, context);
    await expect(handle(broken, 'a1', open, context)).rejects.toThrow('a bug');
    expect(outcomes.map(({ outcome, reason }) => [outcome, reason])).toEqual([
      ['failed', 'event_store_unavailable'],
      ['accepted', 'appended'],
      ['failed', 'error'],
    ]);
  });

  it('stamps the active trace on the events unless the caller brought one', async () => {
    const { handle, eventStore } = setUp(() => TRACEPARENT);
    await handle(counterAggregate, 'a1', open, context);
    const fromSaga = '00-11111111111111111111111111111111-2222222222222222-01';
    const increment = { type: 'Increment' as const, counterId: 'a1', amount: 5 };
    await handle(counterAggregate, 'a1', increment, { ...context, traceparent: fromSaga });

    const events = await eventStore.readStream('counter-a1');
    expect(events.map((event) => event.metadata.traceparent)).toEqual([TRACEPARENT, fromSaga]);
  });

  it('stamps nothing when there is no active trace', async () => {
    const { handle, eventStore } = setUp(() => undefined);
    await handle(counterAggregate, 'a1', open, context);
    const [event] = await eventStore.readStream('counter-a1');
    expect(event?.metadata).not.toHaveProperty('traceparent');
  });
});
