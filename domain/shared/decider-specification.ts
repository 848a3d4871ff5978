import { deepStrictEqual, fail } from 'node:assert/strict';
import { type Decider, fold } from './decider.js';
import { isDomainError } from './domain-error.js';

/**
 * Given/when/then for deciders:
 *
 *   spec(accountDecider).given([opened]).when(deposit).then([deposited])
 *   spec(accountDecider).given([]).when(deposit).thenRejects('account_not_found')
 *
 * Uses node:assert so the domain layer depends on no test framework.
 */
export const spec = <Command, Event, State>(decider: Decider<Command, Event, State>) => ({
  given: (history: Event[]) => ({
    when: (command: Command) => {
      const run = () => decider.decide(command, fold(decider, history));
      return {
        // biome-ignore lint/suspicious/noThenProperty: given/when/then is the point; the object is never awaited
        then: (expected: Event[]) => deepStrictEqual(run(), expected),
        thenRejects: (code: string) => {
          try {
            const events = run();
            fail(`expected rejection '${code}', got events ${JSON.stringify(events)}`);
          } catch (error) {
            if (!isDomainError(error)) throw error;
            deepStrictEqual(error.code, code);
          }
        },
      };
    },
  }),
});
