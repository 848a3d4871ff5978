import type { EventRecord } from './transaction-log.js';

export type EventFilter = (event: EventRecord) => boolean;

/**
 * What every read and subscription of `$all` leaves out, filtered or not (the server's
 * DefaultAllFilterStrategy): the epoch records' events and the persistent subscriptions' own
 * bookkeeping. Other `$` streams stay in.
 */
export const defaultAllFilter: EventFilter = ({ streamId }) =>
  !streamId.startsWith('$') ||
  !(
    streamId === '$epoch-information' ||
    (streamId.startsWith('$persistentsubscription-$all::') &&
      (streamId.endsWith('-checkpoint') || streamId.endsWith('-parked')))
  );

export type FilterExpression = { on: 'stream' | 'type'; regex: string; prefixes: string[] };

/** A filter as the client sends it: a regex when one is given, else prefixes; applied after the default one. */
export const expressionFilter = ({ on, regex, prefixes }: FilterExpression): EventFilter => {
  const field = (event: EventRecord) => (on === 'stream' ? event.streamId : event.type);
  // .NET's Regex.Match searches like RegExp.test: neither is anchored unless the pattern is.
  const pattern = regex ? new RegExp(regex) : undefined;
  const matches = pattern
    ? (value: string) => pattern.test(value)
    : (value: string) => prefixes.some((prefix) => value.startsWith(prefix));
  return (event) => defaultAllFilter(event) && matches(field(event));
};
