import { type AggregateNames, KEBAB, MAX_NAME_LENGTH, pascalOf } from './names.js';

/**
 * What the new aggregate starts with besides its name: its fields (`--field title:string`), which
 * replace the template's, and the commands it takes besides create, edit and archive
 * (`--command lend:memberId:string`). Parsed and checked here, before anything is written.
 */

export const FIELD_TYPES = ['string', 'number', 'boolean'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];
export type Field = { name: string; type: FieldType };

export type CommandSpec = {
  /** kebab-case, as in its URL: POST /books/:id/lend. */
  name: string;
  /** The past tense the event is named with, kebab-case: `lent` for BookLent. */
  past: string;
  fields: Field[];
};

export type AggregateShape = {
  /** Undefined: the template's own fields. */
  fields?: Field[];
  commands: CommandSpec[];
};

export class InvalidShapeError extends Error {
  override readonly name = 'InvalidShapeError';
}

/** The commands and events the template has: a new command may not reuse their names. */
const TEMPLATE_COMMANDS = ['create', 'edit', 'archive'];
const TEMPLATE_EVENTS = ['created', 'edited', 'archived'];
/** What the template's documents, views and commands already call something. */
const TEMPLATE_KEYS = ['type', 'status', 'revision', 'createdAt', 'updatedAt', 'archivedAt', 'at'];
const FIELD_NAME = /^[a-z][A-Za-z0-9]*$/;
const MAX_FIELD_LENGTH = 40;

const checkFieldName = (what: string, name: string, taken: readonly string[]) => {
  if (!FIELD_NAME.test(name))
    throw new InvalidShapeError(
      `${what} "${name}" is not camelCase: a lower-case letter, then letters and digits (e.g. memberId)`,
    );
  if (name.length > MAX_FIELD_LENGTH)
    throw new InvalidShapeError(`${what} "${name}" is longer than ${MAX_FIELD_LENGTH} characters`);
  if (taken.includes(name) || Object.getOwnPropertyNames(Object.prototype).includes(name))
    throw new InvalidShapeError(
      `${what} "${name}" is a name the generated code uses already; choose another`,
    );
};

const parseType = (what: string, type: string | undefined): FieldType => {
  const known = FIELD_TYPES.find((candidate) => candidate === type);
  if (known === undefined)
    throw new InvalidShapeError(
      `${what}: type "${type ?? ''}" is not one of ${FIELD_TYPES.join(', ')} (number: an integer)`,
    );
  return known;
};

/** `name:type` pairs, checked; `taken` are names they may not have. */
const parseFields = (what: string, parts: readonly string[], taken: readonly string[]): Field[] => {
  if (parts.length % 2 !== 0)
    throw new InvalidShapeError(`${what}: expected name:type pairs, got "${parts.join(':')}"`);
  const fields: Field[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    const name = parts[i] ?? '';
    checkFieldName(`${what}: field`, name, taken);
    if (fields.some((field) => field.name === name))
      throw new InvalidShapeError(`${what}: field "${name}" is given twice`);
    fields.push({ name, type: parseType(`${what}: field "${name}"`, parts[i + 1]) });
  }
  return fields;
};

/** Verbs whose past tense is not the regular one (the scaffolder names events with it). */
const IRREGULAR: Record<string, string> = {
  begin: 'begun',
  bring: 'brought',
  build: 'built',
  buy: 'bought',
  choose: 'chosen',
  do: 'done',
  draw: 'drawn',
  find: 'found',
  forget: 'forgotten',
  freeze: 'frozen',
  give: 'given',
  hide: 'hidden',
  hold: 'held',
  keep: 'kept',
  leave: 'left',
  lend: 'lent',
  lose: 'lost',
  make: 'made',
  meet: 'met',
  pay: 'paid',
  put: 'put',
  read: 'read',
  run: 'run',
  sell: 'sold',
  send: 'sent',
  set: 'set',
  shut: 'shut',
  spend: 'spent',
  split: 'split',
  take: 'taken',
  tell: 'told',
  throw: 'thrown',
  undo: 'undone',
  win: 'won',
  withdraw: 'withdrawn',
  write: 'written',
};
/** Longer verbs stressed on the last syllable, which double their last consonant (submit → submitted). */
const DOUBLING = new Set(
  'admit commit compel control emit equip expel forbid occur omit patrol permit prefer propel refer regret submit transfer'.split(
    ' ',
  ),
);

/**
 * The past tense of a verb: irregular ones from a list; else -e → -ed (archive → archived),
 * consonant + y → -ied (copy → copied), one short syllable ending consonant-vowel-consonant doubles
 * the consonant (stop → stopped), and -ed otherwise. Of a kebab-case command, the first word's
 * (mark-read → marked-read). Pass `name/past` for what this gets wrong.
 */
export const pastTenseOf = (command: string): string => {
  const [verb = '', ...rest] = command.split('-');
  const past = (): string => {
    const irregular = IRREGULAR[verb];
    if (irregular !== undefined) return irregular;
    if (verb.endsWith('e')) return `${verb}d`;
    if (/[^aeiou]y$/.test(verb)) return `${verb.slice(0, -1)}ied`;
    const shortSyllable = /^[^aeiou]*[aeiou][^aeiouwxy]$/.test(verb);
    if (shortSyllable || DOUBLING.has(verb)) return `${verb}${verb.at(-1)}ed`;
    return `${verb}ed`;
  };
  return [past(), ...rest].join('-');
};

const checkCommandName = (what: string, name: string) => {
  if (!KEBAB.test(name))
    throw new InvalidShapeError(
      `${what} "${name}" is not kebab-case: lower-case words of letters and digits joined by "-", ` +
        'starting with a letter (e.g. lend, mark-read)',
    );
  if (name.length > MAX_NAME_LENGTH)
    throw new InvalidShapeError(`${what} "${name}" is longer than ${MAX_NAME_LENGTH} characters`);
};

/** `--field name:type`. */
export const parseField = (spec: string, names: AggregateNames): Field => {
  const parts = spec.split(':');
  if (parts.length !== 2)
    throw new InvalidShapeError(`--field ${spec}: expected name:type (e.g. --field title:string)`);
  const [field] = parseFields(`--field ${spec}`, parts, [...TEMPLATE_KEYS, names.idField]);
  if (field === undefined) throw new InvalidShapeError(`--field ${spec}: expected name:type`);
  return field;
};

/** `--command name[/past][:field:type]…`. */
export const parseCommand = (spec: string, names: AggregateNames): CommandSpec => {
  const [head = '', ...parts] = spec.split(':');
  const [name = '', past = pastTenseOf(name), ...more] = head.split('/');
  const what = `--command ${spec}`;
  if (more.length > 0)
    throw new InvalidShapeError(`${what}: expected name or name/past before the first ":"`);
  checkCommandName(`${what}: command`, name);
  checkCommandName(`${what}: past tense`, past);
  if (TEMPLATE_COMMANDS.includes(name))
    throw new InvalidShapeError(
      `${what}: ${name} is one of the template's commands (${TEMPLATE_COMMANDS.join(', ')})`,
    );
  if (TEMPLATE_EVENTS.includes(past))
    throw new InvalidShapeError(
      `${what}: its event would be ${names.pascal}${pascalOf(past)}, which the template has`,
    );
  return { name, past, fields: parseFields(what, parts, ['type', names.idField]) };
};

/** Every --field and --command, checked together: no name twice. */
export const aggregateShape = (
  names: AggregateNames,
  { fields = [], commands = [] }: { fields?: readonly string[]; commands?: readonly string[] },
): AggregateShape => {
  const parsedFields = fields.map((spec) => parseField(spec, names));
  const twice = parsedFields.find((field, i) => parsedFields.findIndex((f) => f.name === field.name) !== i);
  if (twice) throw new InvalidShapeError(`--field ${twice.name} is given twice`);
  const parsedCommands = commands.map((spec) => parseCommand(spec, names));
  parsedCommands.forEach((command, i) => {
    const earlier = parsedCommands.slice(0, i);
    if (earlier.some((c) => c.name === command.name))
      throw new InvalidShapeError(`--command ${command.name} is given twice`);
    if (earlier.some((c) => c.past === command.past))
      throw new InvalidShapeError(
        `--command ${command.name}: its event ${names.pascal}${pascalOf(command.past)} is another command's; ` +
          'give one a past tense of its own (name/past)',
      );
  });
  return { ...(parsedFields.length > 0 && { fields: parsedFields }), commands: parsedCommands };
};

/** The names a command's code uses: LendBook, BookLent, LendBookBody. */
export const commandNames = (n: AggregateNames, command: CommandSpec) => ({
  command: `${pascalOf(command.name)}${n.pascal}`,
  event: `${n.pascal}${pascalOf(command.past)}`,
  body: `${pascalOf(command.name)}${n.pascal}Body`,
});
