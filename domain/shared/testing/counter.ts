import { z } from 'zod';
import type { Aggregate } from '../decider.js';
import { DomainError } from '../domain-error.js';

/**
 * The fixture domain of the engines' own tests: a counter. It has the shape the engines care about
 * (a stream opened with a few fields, then changed by amounts that carry the total they leave, then
 * closed; rules that refuse a command) and nothing else, so the projector, the read API, the
 * command API and the system are tested on it rather than on the example domain, which a user
 * deletes (npm run example:remove).
 *
 * - `counter-<id>`: OpenCounter → CounterOpened; Increment/Decrement → Incremented/Decremented with
 *   the total after; CloseCounter → CounterClosed.
 * - Refused: opening twice (conflict), changing a counter that does not exist (not found) or is
 *   closed, going below zero, closing a counter whose total is not zero.
 */

export const CounterId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'counterId must be 1-64 letters, digits, "-" or "_"');
const Owner = z.string().trim().min(1).max(200);
const Note = z.string().min(1).max(200);
export const CounterAmount = z.number().int().positive().max(1_000_000_000);

// ── Commands ────────────────────────────────────────────────────────────────
export const OpenCounter = z.object({ type: z.literal('OpenCounter'), counterId: CounterId, owner: Owner });
export const Increment = z.object({
  type: z.literal('Increment'),
  counterId: CounterId,
  amount: CounterAmount,
  note: Note.optional(),
});
export const Decrement = z.object({
  type: z.literal('Decrement'),
  counterId: CounterId,
  amount: CounterAmount,
  note: Note.optional(),
});
export const CloseCounter = z.object({ type: z.literal('CloseCounter'), counterId: CounterId });
export const CounterCommand = z.discriminatedUnion('type', [OpenCounter, Increment, Decrement, CloseCounter]);
export type CounterCommand = z.infer<typeof CounterCommand>;

// ── Events ──────────────────────────────────────────────────────────────────
const change = <T extends string>(type: T) =>
  z.object({
    type: z.literal(type),
    data: z.object({
      counterId: CounterId,
      amount: CounterAmount,
      total: z.number().int().nonnegative(),
      note: Note.optional(),
    }),
  });
export const CounterEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('CounterOpened'), data: z.object({ counterId: CounterId, owner: Owner }) }),
  change('Incremented'),
  change('Decremented'),
  z.object({ type: z.literal('CounterClosed'), data: z.object({ counterId: CounterId }) }),
]);
export type CounterEvent = z.infer<typeof CounterEvent>;
export const counterEventTypes = CounterEvent.options.map((o) => o.shape.type.value);

// ── State and rules ─────────────────────────────────────────────────────────
export type CounterState = { status: 'none' } | { status: 'open' | 'closed'; owner: string; total: number };

const refuse = (code: string, message: string, kind: 'rejected' | 'not_found' | 'conflict' = 'rejected') =>
  new DomainError(code, kind, message);

const requireOpen = (state: CounterState) => {
  if (state.status === 'none') throw refuse('counter_not_found', 'counter does not exist', 'not_found');
  if (state.status === 'closed') throw refuse('counter_closed', 'counter is closed');
  return state;
};

export const counterAggregate: Aggregate<CounterCommand, CounterEvent, CounterState> = {
  category: 'counter',
  decider: {
    initialState: { status: 'none' },
    decide: (command, state) => {
      const { counterId } = command;
      switch (command.type) {
        case 'OpenCounter':
          if (state.status !== 'none') throw refuse('counter_exists', 'counter already exists', 'conflict');
          return [{ type: 'CounterOpened', data: { counterId, owner: command.owner } }];
        case 'Increment': {
          const { total } = requireOpen(state);
          const { amount, note } = command;
          return [{ type: 'Incremented', data: { counterId, amount, total: total + amount, note } }];
        }
        case 'Decrement': {
          const { total } = requireOpen(state);
          const { amount, note } = command;
          if (amount > total) throw refuse('below_zero', `total ${total} is less than ${amount}`);
          return [{ type: 'Decremented', data: { counterId, amount, total: total - amount, note } }];
        }
        case 'CloseCounter': {
          const { total } = requireOpen(state);
          if (total !== 0) throw refuse('total_not_zero', `total is ${total}; only a zero counter closes`);
          return [{ type: 'CounterClosed', data: { counterId } }];
        }
      }
    },
    evolve: (state, event) => {
      switch (event.type) {
        case 'CounterOpened':
          return { status: 'open', owner: event.data.owner, total: 0 };
        case 'Incremented':
        case 'Decremented':
          return state.status === 'none' ? state : { ...state, total: event.data.total };
        case 'CounterClosed':
          return state.status === 'none' ? state : { ...state, status: 'closed' };
      }
    },
  },
  parseEvent: (event) => CounterEvent.parse(event),
};
