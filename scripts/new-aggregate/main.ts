import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InvalidNameError, MAX_NAME_LENGTH } from './names.js';
import { AlreadyExistsError, formatWithBiome, newAggregate } from './new-aggregate.js';
import { WiringError } from './wiring.js';

const USAGE = `usage: npm run new-aggregate -- <name> [--plural <plural>]

Writes an example aggregate into every layer (domain, commands, projections, read-api), with its
tests, composes its parts into a module (app/modules/<plural>.ts) and adds that module to the list
in app/modules.ts. Then make it yours: docs/adding-an-aggregate.md.

  <name>      the singular, in kebab-case: lower-case words of letters and digits joined by "-",
              starting with a letter, at most ${MAX_NAME_LENGTH} characters (e.g. loyalty-card)
  --plural    for an irregular plural (person → --plural people); by default -y → -ies,
              -s/-x/-z/-ch/-sh → -es, else -s

It refuses to overwrite any file, and writes nothing when it refuses.`;

const root = resolve(import.meta.dirname, '..', '..');

const main = async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { plural: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return console.log(USAGE);
  const [name, ...rest] = positionals;
  if (name === undefined || rest.length > 0) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }

  const { names, created, wired } = newAggregate({ root, name, plural: values.plural });
  const width = Math.max(...created.map((file) => file.path.length), ...wired.map((w) => w.file.length));
  console.log(`Created the ${names.words} aggregate:`);
  for (const file of created) console.log(`  ${file.path.padEnd(width)}  ${file.purpose}`);
  console.log('Registered in:');
  for (const wiring of wired) console.log(`  ${wiring.file.padEnd(width)}  ${wiring.summary}`);

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
    error instanceof AlreadyExistsError ||
    error instanceof WiringError
  ) {
    console.error(`new-aggregate: ${error.message}\nNothing was written.`);
    process.exitCode = 1;
    return;
  }
  throw error;
});
