import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InvalidNameError, MAX_NAME_LENGTH } from './names.js';
import { AlreadyExistsError, formatWithBiome, newAggregate } from './new-aggregate.js';
import { commandNames, FIELD_TYPES, InvalidShapeError } from './shape.js';
import { TemplateMissingError } from './template.js';
import { WiringError } from './wiring.js';

const USAGE = `usage: npm run new-aggregate -- <name> [--plural <plural>] [--field <name>:<type>]…
                                  [--command <name>[/<past>][:<field>:<type>]…]…

Copies the template aggregate (the sticky-notes module: domain, commands, projections, read-api,
each with its tests, and app/modules/sticky-notes.ts) under the new name, with the fields and
commands given, and adds the module to the list in app/modules.ts. Then make it yours:
docs/adding-an-aggregate.md.

  <name>      the singular, in kebab-case: lower-case words of letters and digits joined by "-",
              starting with a letter, at most ${MAX_NAME_LENGTH} characters (e.g. loyalty-card)
  --plural    for an irregular plural (person → --plural people); by default -y → -ies,
              -s/-x/-z/-ch/-sh → -es, else -s
  --field     a field the aggregate holds, set on create and changed by edit, shown by its views;
              camelCase, of type ${FIELD_TYPES.join(', ')} (number: an integer). Repeat it for
              each field; the first is the one the generated tests edit. Without any: the
              template's (title, body)
  --command   a command besides create, edit and archive: POST /<plural>/:id/<name>, with the
              fields given, recorded as an event named with the past tense (derived: lend → lent,
              mark-read → marked-read; give it as name/past where that is wrong)

Example: npm run new-aggregate -- book --field title:string --field isbn:string \\
           --command lend:memberId:string --command return

It refuses to overwrite any file, and writes nothing when it refuses.`;

const root = resolve(import.meta.dirname, '..', '..');

const main = async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      plural: { type: 'string' },
      field: { type: 'string', multiple: true },
      command: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(USAGE);
  const [name, ...rest] = positionals;
  if (name === undefined || rest.length > 0) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }

  const { names, shape, created, wired } = newAggregate({
    root,
    name,
    plural: values.plural,
    fields: values.field,
    commands: values.command,
  });
  const width = Math.max(...created.map((file) => file.path.length), ...wired.map((w) => w.file.length));
  console.log(`Created the ${names.words} aggregate:`);
  for (const file of created) console.log(`  ${file.path.padEnd(width)}  ${file.purpose}`);
  console.log('Registered in:');
  for (const wiring of wired) console.log(`  ${wiring.file.padEnd(width)}  ${wiring.summary}`);
  console.log(
    `Fields: ${shape.fields?.map((field) => `${field.name} (${field.type})`).join(', ') ?? 'title, body (the template’s)'}`,
  );
  for (const command of shape.commands) {
    const { command: type, event } = commandNames(names, command);
    console.log(`Command: POST /${names.kebabPlural}/:id/${command.name}  ${type} → ${event}`);
  }

  const problem = await formatWithBiome(root, [
    ...created.map((file) => file.path),
    ...wired.map((w) => w.file),
  ]);
  if (problem !== undefined)
    console.warn(`\nNot formatted: ${problem}\nRun: npx biome check --write <the files above>`);

  const folders = ['domain', 'commands', 'projections', 'read-api'].map(
    (layer) => `${layer}/${names.kebabPlural}`,
  );
  console.log(`\nNext: npx tsc --noEmit && npx vitest run ${folders.join(' ')}`);
  console.log('Then make it yours: docs/adding-an-aggregate.md');
};

main().catch((error: unknown) => {
  if (
    error instanceof InvalidNameError ||
    error instanceof InvalidShapeError ||
    error instanceof AlreadyExistsError ||
    error instanceof TemplateMissingError ||
    error instanceof WiringError
  ) {
    console.error(`new-aggregate: ${error.message}\nNothing was written.`);
    process.exitCode = 1;
    return;
  }
  if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
    console.error(`new-aggregate: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  throw error;
});
