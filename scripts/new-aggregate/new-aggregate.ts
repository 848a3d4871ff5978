import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { type AggregateNames, aggregateNames } from './names.js';
import { type AggregateShape, aggregateShape, commandNames } from './shape.js';
import { clashingNames, type GeneratedFile, renderAggregate } from './template.js';
import { type Wiring, wirings } from './wiring.js';

/** An OpenAPI schema id, as the code declares one. */
const SCHEMA_ID = /\.meta\(\{\s*id:\s*'([^']+)'/g;

export class AlreadyExistsError extends Error {
  override readonly name = 'AlreadyExistsError';
}

export type Scaffolded = {
  names: AggregateNames;
  shape: AggregateShape;
  created: readonly GeneratedFile[];
  wired: readonly Wiring[];
};

/** What to scaffold: the name, and the `--plural`, `--field` and `--command` options as given. */
export type NewAggregateOptions = {
  root: string;
  name: string;
  plural?: string | undefined;
  fields?: readonly string[] | undefined;
  commands?: readonly string[] | undefined;
};

/**
 * The new aggregate's files, rendered from the template under `root` (the sticky-notes module),
 * and its names and shape; checked, but nothing written. Throws InvalidNameError or
 * InvalidShapeError for bad input, AlreadyExistsError for a name that collides with what exists.
 */
export const planAggregate = ({ root, name, plural, fields, commands }: NewAggregateOptions) => {
  const names = aggregateNames(name, plural);
  const shape = aggregateShape(names, { fields, commands });
  const clashes = clashingNames(
    root,
    names,
    shape.commands.flatMap((command) => Object.values(commandNames(names, command))),
  );
  if (clashes.length > 0)
    throw new AlreadyExistsError(
      `the aggregate "${name}"${shape.commands.length > 0 ? ' with its commands' : ''} would make ` +
        `${clashes.join(', ')}, which the code uses already; choose another name`,
    );
  const files = renderAggregate(root, names, shape);
  const existing = files.filter((file) => existsSync(join(root, file.path)));
  if (existing.length > 0)
    throw new AlreadyExistsError(
      `refusing to overwrite what exists:\n${existing.map((file) => `  ${file.path}`).join('\n')}`,
    );
  const taken = schemaIdsInUse(root);
  const clashingIds = files
    .flatMap((file) => [...file.content.matchAll(SCHEMA_ID)].map(([, id = '']) => id))
    .filter((id) => taken.has(id));
  if (clashingIds.length > 0)
    throw new AlreadyExistsError(
      `the OpenAPI schema ${clashingIds.map((id) => `'${id}' (${taken.get(id)})`).join(', ')} would be ` +
        'declared twice, and one would hide the other in /openapi.json; choose another name',
    );
  return { names, shape, files };
};

/**
 * Copies the template into a new aggregate under `root` and wires it in. All or nothing: the
 * input, the absence of every file, the names, the OpenAPI schema ids and the wiring are checked
 * before the first write, so a refusal (InvalidNameError, InvalidShapeError, AlreadyExistsError,
 * WiringError) leaves the tree as it was.
 */
export const newAggregate = (options: NewAggregateOptions): Scaffolded => {
  const { root } = options;
  const { names, shape, files } = planAggregate(options);
  const rewired = wirings.map((wiring) => ({
    wiring,
    source: wiring.wire(readFileSync(join(root, wiring.file), 'utf8'), names),
  }));

  for (const file of files) {
    const path = join(root, file.path);
    mkdirSync(dirname(path), { recursive: true });
    // 'wx' fails rather than overwrite a file that appeared since the check.
    writeFileSync(path, file.content, { flag: 'wx' });
  }
  for (const { wiring, source } of rewired) writeFileSync(join(root, wiring.file), source);
  return { names, shape, created: files, wired: rewired.map(({ wiring }) => wiring) };
};

/** Every `.meta({ id })` of the layers' code, with the file that declares it. */
const schemaIdsInUse = (root: string): Map<string, string> => {
  const ids = new Map<string, string>();
  for (const layer of ['domain', 'commands', 'projections', 'read-api']) {
    const folder = join(root, layer);
    if (!existsSync(folder)) continue;
    for (const entry of readdirSync(folder, { withFileTypes: true, recursive: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts')) continue;
      const path = join(entry.parentPath, entry.name);
      for (const [, id = ''] of readFileSync(path, 'utf8').matchAll(SCHEMA_ID))
        ids.set(id, relative(root, path));
    }
  }
  return ids;
};

/**
 * Sorts the imports the wiring added and wraps long lines, with the project's biome settings.
 * Resolves to undefined when it worked, or to why it did not.
 */
export const formatWithBiome = async (
  root: string,
  paths: readonly string[],
): Promise<string | undefined> => {
  const biome = join(root, 'node_modules', '.bin', 'biome');
  if (!existsSync(biome)) return 'biome is not installed (npm install)';
  try {
    await promisify(execFile)(biome, ['check', '--write', ...paths], { cwd: root });
    return undefined;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    return `biome check reported problems:\n${stdout}${stderr}`.trimEnd();
  }
};
