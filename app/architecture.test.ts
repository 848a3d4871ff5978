import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The layer rules, checked. Imports are read with the TypeScript parser (static, dynamic and
 * re-exports), so comments and strings cannot fool the check. Each rule is data: which files it
 * applies to and which imports it forbids them; `violations` applies every rule to a list of
 * imports, the repository's own below, and small made-up lists that break each rule once, so a
 * rule that could never fail would show.
 *
 *   domain/       pure: itself, zod, node:assert (for its spec helper)
 *   infra/        ports and adapters: nothing from commands/, projections/, read-api/ or app/
 *   commands/     nothing from read-api/
 *   app/          the composition root: imports everything; nothing imports it, except scripts/
 *                 and test files, which may need the whole system
 *   drivers       only infra/ talks to a database or cache driver
 */
const root = resolve(import.meta.dirname, '..');
const FOLDERS = ['domain', 'commands', 'projections', 'read-api', 'infra', 'app', 'scripts'] as const;
const drivers = ['@eventstore/db-client', 'mongodb', 'ioredis', 'better-sqlite3', 'lru-cache', 'mingo'];

/** One import: the importing file and what it names, both relative to the repository's root. */
type Import = {
  file: string;
  /** A repository-relative path for a relative import, else the package specifier as written. */
  target: string;
  relative: boolean;
};

type Rule = { name: string; appliesTo(file: string): boolean; forbids(target: Import): boolean };

const layerOf = (path: string) => path.split('/')[0] ?? '';
const isTest = (file: string) => file.endsWith('.test.ts');
const packageOf = (specifier: string) =>
  specifier.startsWith('@')
    ? specifier.split('/').slice(0, 2).join('/')
    : (specifier.split('/')[0] ?? specifier);
const intoLayer = (target: Import, layers: readonly string[]) =>
  target.relative && layers.includes(layerOf(target.target));

const rules: readonly Rule[] = [
  {
    name: 'domain/ imports only itself, zod and node:assert',
    // Test files may import the test runner; the rule is about the code that ships.
    appliesTo: (file) => layerOf(file) === 'domain' && !isTest(file),
    forbids: (i) =>
      i.relative ? layerOf(i.target) !== 'domain' : !['zod', 'node:assert/strict'].includes(i.target),
  },
  {
    name: 'only infra/ imports a database or cache driver',
    appliesTo: (file) => ['domain', 'commands', 'projections', 'read-api'].includes(layerOf(file)),
    forbids: (i) => !i.relative && drivers.includes(packageOf(i.target)),
  },
  {
    name: 'infra/ imports nothing from commands/, projections/, read-api/ or app/',
    appliesTo: (file) => layerOf(file) === 'infra',
    forbids: (i) => intoLayer(i, ['commands', 'projections', 'read-api', 'app']),
  },
  {
    name: 'commands/ imports nothing from read-api/',
    appliesTo: (file) => layerOf(file) === 'commands',
    forbids: (i) => intoLayer(i, ['read-api']),
  },
  {
    name: 'only app/ imports app/ (and scripts/ and test files, which may start the whole system)',
    appliesTo: (file) => !['app', 'scripts'].includes(layerOf(file)) && !isTest(file),
    forbids: (i) => intoLayer(i, ['app']),
  },
];

/** Every import that breaks a rule, as "<rule>: <file> imports <target>". */
const violations = (imports: readonly Import[]): string[] =>
  rules.flatMap((rule) =>
    imports
      .filter((i) => rule.appliesTo(i.file) && rule.forbids(i))
      .map((i) => `${rule.name}: ${i.file} imports ${i.target}`),
  );

const sourceFiles = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));

const importsOf = (file: string): Import[] =>
  ts
    .preProcessFile(readFileSync(join(root, file), 'utf8'), true, true)
    .importedFiles.map(({ fileName }) =>
      fileName.startsWith('.')
        ? { file, target: relative(root, resolve(root, dirname(file), fileName)), relative: true }
        : { file, target: fileName, relative: false },
    );

const repository = FOLDERS.flatMap(sourceFiles).flatMap(importsOf);

describe('architecture', () => {
  it('the repository keeps every layer rule', () => {
    expect(violations(repository)).toEqual([]);
  });

  it('the checks see imports at all (guards against a vacuous pass)', () => {
    const of = (file: string) => repository.filter((i) => i.file === file).map((i) => i.target);
    expect(of('infra/event-store/memory-event-store.ts')).toContain('infra/event-store/event-store.js');
    // A dynamic import, resolved to the folder it names.
    expect(of('app/run.ts')).toContain('app/system.js');
    expect(of('app/system.ts')).toEqual(expect.arrayContaining(['commands/command-api.js']));
    for (const folder of FOLDERS)
      expect(
        repository.some((i) => layerOf(i.file) === folder),
        folder,
      ).toBe(true);
  });

  // Each rule, broken by a made-up import: the rule must report it.
  const imported = (file: string, target: string): Import =>
    target.startsWith('.')
      ? { file, target: relative(root, resolve(root, dirname(file), target)), relative: true }
      : { file, target, relative: false };
  const broken: [Rule | undefined, Import][] = [
    [rules[0], imported('domain/accounts/account.ts', '../../infra/logger.js')],
    [rules[0], imported('domain/accounts/account.ts', 'fastify')],
    [rules[1], imported('projections/accounts/accounts-projection.ts', 'mongodb')],
    [rules[1], imported('read-api/accounts/account-reader.test.ts', 'ioredis/built/Redis.js')],
    [rules[2], imported('infra/http/create-http-app.ts', '../../commands/command-api.js')],
    [rules[2], imported('infra/metrics/metrics.ts', '../../projections/engine/projector.js')],
    [rules[2], imported('infra/health/readiness.ts', '../../read-api/read-stats.js')],
    [rules[2], imported('infra/config.ts', '../app/modules.js')],
    [rules[2], imported('infra/health/readiness.test.ts', '../../app/system.js')],
    [rules[3], imported('commands/command-api.ts', '../read-api/read-api.js')],
    [rules[4], imported('read-api/read-api.ts', '../app/modules.js')],
    [rules[4], imported('projections/testing/harness.ts', '../../app/system.js')],
  ];
  it.each(broken.map(([rule, bad]) => [rule?.name, bad.file, bad.target, rule, bad] as const))(
    '%s: fails on %s importing %s',
    (_name, _file, _target, rule, bad) => {
      expect(violations([bad])).toContain(`${rule?.name}: ${bad.file} imports ${bad.target}`);
    },
  );

  it.each([
    imported('app/system.ts', '../commands/command-api.js'),
    imported('app/system.ts', '../infra/config.js'),
    imported('scripts/parked.ts', '../app/modules.js'),
    imported('read-api/accounts/account-read-your-writes.test.ts', '../../app/testing/in-process-app.js'),
    imported('read-api/read-api.ts', '../projections/engine/checkpoint-store.js'),
    imported('commands/process-manager/lease.ts', '../../projections/engine/lease.js'),
    imported('infra/event-store/memory-event-store.ts', './event-store.js'),
    imported('infra/http/create-http-app.ts', '../../domain/shared/domain-error.js'),
    imported('app/readiness-mongo.test.ts', 'mongodb'),
  ])('allows $file importing $target', (allowed) => {
    expect(violations([allowed])).toEqual([]);
  });
});
