import type { Aggregate } from '../../domain/shared/decider.js';
import { isDomainError } from '../../domain/shared/domain-error.js';
import type { EventStore, RecordedEvent } from '../../infra/event-store/event-store.js';
import type { CommandContext, CommandHandler, CommandResult } from '../pipeline/handle-command.js';
import { sha256 } from '../pipeline/idempotency.js';

/**
 * Exactly-once effects. Each step a process manager takes outside its own stream (a command to
 * another aggregate) carries an idempotency key made of the process, the key it works under and
 * the step: `<process>:<id>:<step>`, e.g. `job:j1:add`. However often the step is
 * repeated (a redelivered event, a retry after an error, a restart in the middle) the command
 * pipeline applies it at most once, and the step's event can be found again by that key.
 */
export const stepKey = (process: string, id: string, step: string): string => `${process}:${id}:${step}`;

/** The event a step appended, found in a stream by its key. */
export const findStep = (events: readonly RecordedEvent[], key: string): RecordedEvent | undefined =>
  events.find((e) => e.metadata.idempotencyKey === key);

/** What became of a step: the event it appended (or had appended before), or the rule that refused it. */
export type StepOutcome = { event: RecordedEvent } | { refused: string };

/**
 * Runs one step: `command` on `aggregate`'s stream `id`, under the step's key. Resolves with the
 * event it appended (or found, on a repeat), or with the code of the domain rule that refused it;
 * any other failure (the store, a conflict storm) throws, and the step may be tried again.
 */
export const runStep = async <Command, Event extends { type: string; data: unknown }, State>(
  { handle, eventStore }: { handle: CommandHandler; eventStore: EventStore },
  aggregate: Aggregate<Command, Event, State>,
  id: string,
  command: Command,
  { key, ...context }: Omit<CommandContext, 'idempotency'> & { key: string },
): Promise<StepOutcome> => {
  try {
    const result = await handle(aggregate, id, command, {
      ...context,
      // The same command under the same key is a repeat; a different one is refused by the pipeline.
      idempotency: { key, requestHash: sha256(JSON.stringify(command)) },
    });
    return { event: await appendedBy(eventStore, result) };
  } catch (error) {
    if (isDomainError(error)) return { refused: error.code };
    throw error;
  }
};

/** The event a command appended (or found, on a repeat): its id is the cause of what follows. */
const appendedBy = async (eventStore: EventStore, result: CommandResult) => {
  const [event] = await eventStore.readStream(result.streamId, { fromRevision: result.revision });
  if (!event) throw new Error(`${result.streamId} has no revision ${result.revision}`);
  return event;
};
