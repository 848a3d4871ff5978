import { describe, it } from 'vitest';
import { spec } from '../decider-specification.js';
import { type CounterEvent, counterAggregate } from './counter.js';

const given = spec(counterAggregate.decider).given;
const counterId = 'c1';
const opened: CounterEvent = { type: 'CounterOpened', data: { counterId, owner: 'Ada' } };
const incremented: CounterEvent = {
  type: 'Incremented',
  data: { counterId, amount: 5, total: 5, note: undefined },
};

describe('the fixture counter', () => {
  it('opens once', () => {
    given([]).when({ type: 'OpenCounter', counterId, owner: 'Ada' }).then([opened]);
    given([opened]).when({ type: 'OpenCounter', counterId, owner: 'Bob' }).thenRejects('counter_exists');
  });

  it('records each change with the total it leaves, never below zero', () => {
    given([opened]).when({ type: 'Increment', counterId, amount: 5 }).then([incremented]);
    given([opened, incremented])
      .when({ type: 'Decrement', counterId, amount: 2, note: 'n' })
      .then([{ type: 'Decremented', data: { counterId, amount: 2, total: 3, note: 'n' } }]);
    given([opened, incremented]).when({ type: 'Decrement', counterId, amount: 6 }).thenRejects('below_zero');
    given([]).when({ type: 'Increment', counterId, amount: 1 }).thenRejects('counter_not_found');
  });

  it('closes only at zero, and then refuses changes', () => {
    given([opened, incremented]).when({ type: 'CloseCounter', counterId }).thenRejects('total_not_zero');
    const closed: CounterEvent = { type: 'CounterClosed', data: { counterId } };
    given([opened]).when({ type: 'CloseCounter', counterId }).then([closed]);
    given([opened, closed]).when({ type: 'Increment', counterId, amount: 1 }).thenRejects('counter_closed');
  });
});
