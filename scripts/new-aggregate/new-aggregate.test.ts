import { execFile } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedFiles } from './generated-files.js';
import { aggregateNames } from './names.js';
import { wirings } from './wiring.js';

/**
 * The scaffolder, end to end, on a copy of this repository: `npm run new-aggregate`, then the
 * generated code must typecheck, pass biome and pass its own tests, wired into the app. The copy
 * holds the source folders and the root config; node_modules is a symlink to this one's.
 */
const repo = resolve(import.meta.dirname, '..', '..');
const SOURCE_FOLDERS = ['domain', 'commands', 'projections', 'read-api', 'infra', 'app', 'scripts'];
// .gitignore too: biome.json reads it (vcs.useIgnoreFile).
const ROOT_FILES = ['package.json', 'tsconfig.json', 'biome.json', 'vitest.config.ts', '.gitignore'];
const names = aggregateNames('gift-card');
const generated = generatedFiles(names).map((file) => file.path);
const wired = wirings.map((wiring) => wiring.file);
// The generated tests, and the app's tests that every aggregate must pass: the layer rules, and
// the API docs (every route documented, schema ids unique).
const testsToRun = [
  ...generated.filter((path) => path.endsWith('.test.ts')),
  'app/architecture.test.ts',
  'read-api/http/api-docs.test.ts',
];

type Run = { code: number; output: string };

/** Runs a command in the copy; resolves with its exit code and output, never rejects. */
const run = (copy: string, command: string, args: readonly string[]): Promise<Run> =>
  new Promise((done) => {
    // Not our vitest worker's variables: the vitest started here is a run of its own.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST')));
    execFile(command, args, { cwd: copy, env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      done({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });

const bin = (copy: string, name: string) => join(copy, 'node_modules', '.bin', name);
/** Every file of the copy's source folders, by path, with its content. */
const sources = (copy: string) =>
  new Map(
    SOURCE_FOLDERS.flatMap((folder) =>
      readdirSync(join(copy, folder), { withFileTypes: true, recursive: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name))
        .map((path) => [relative(copy, path), readFileSync(path, 'utf8')] as const),
    ),
  );
const snapshot = (copy: string) =>
  [...generated, ...wired].map((path) =>
    existsSync(join(copy, path)) ? readFileSync(join(copy, path), 'utf8') : null,
  );

describe('npm run new-aggregate', () => {
  let copy: string;
  let before: Map<string, string>;
  let scaffold: Run;
  let typecheck: Promise<Run>;
  let tests: Promise<Run>;

  beforeAll(async () => {
    copy = mkdtempSync(join(tmpdir(), 'eventfold-new-aggregate-'));
    for (const folder of SOURCE_FOLDERS) cpSync(join(repo, folder), join(copy, folder), { recursive: true });
    for (const file of ROOT_FILES) copyFileSync(join(repo, file), join(copy, file));
    symlinkSync(join(repo, 'node_modules'), join(copy, 'node_modules'), 'dir');
    before = sources(copy);

    scaffold = await run(copy, 'npm', ['run', '--silent', 'new-aggregate', '--', names.kebab]);
    if (scaffold.code !== 0) return;
    // Only what the new aggregate reaches (the generated and wired files, and what they import):
    // work in progress elsewhere in the tree is not this test's business.
    writeFileSync(
      join(copy, 'tsconfig.new-aggregate.json'),
      JSON.stringify({ extends: './tsconfig.json', include: [...generated, ...wired] }),
    );
    // Started together, so the two processes share the machine's cores.
    typecheck = run(copy, bin(copy, 'tsc'), ['--noEmit', '-p', 'tsconfig.new-aggregate.json']);
    tests = run(copy, bin(copy, 'vitest'), [
      'run',
      '--reporter=json',
      `--outputFile=${join(copy, 'vitest-report.json')}`,
      ...testsToRun,
    ]);
  }, 60_000);

  afterAll(async () => {
    // Let whatever is still running finish before its folder goes.
    await Promise.allSettled([typecheck, tests]);
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it('writes every file and says so, one line each', () => {
    expect(scaffold.code, scaffold.output).toBe(0);
    for (const path of [...generated, ...wired]) expect(scaffold.output).toContain(path);
    expect(scaffold.output).not.toContain('Not formatted');
    for (const path of generated) expect(existsSync(join(copy, path)), path).toBe(true);
    for (const path of wired)
      expect(readFileSync(join(copy, path), 'utf8')).not.toBe(readFileSync(join(repo, path), 'utf8'));
  });

  it('changes one existing file, the module list, and adds only the files it lists', () => {
    const after = sources(copy);
    const changed = [...before]
      .filter(([path, content]) => after.get(path) !== content)
      .map(([path]) => path);
    const added = [...after.keys()].filter((path) => !before.has(path));
    expect(changed).toEqual(['app/modules.ts']);
    expect(added.sort()).toEqual([...generated].sort());
  });

  it('leaves every file it wrote formatted and lint-clean', async () => {
    const biome = await run(copy, bin(copy, 'biome'), ['check', ...generated, ...wired]);
    expect(biome.code, biome.output).toBe(0);
  });

  it('typechecks', async () => {
    const result = await typecheck;
    expect(result.code, result.output).toBe(0);
  }, 120_000);

  it('passes its own tests and the app’s, wired into the app', async () => {
    const result = await tests;
    expect(result.code, result.output).toBe(0);
    const report = JSON.parse(readFileSync(join(copy, 'vitest-report.json'), 'utf8')) as {
      numFailedTests: number;
      numPassedTests: number;
      testResults: { name: string; status: string }[];
    };
    expect(report.numFailedTests).toBe(0);
    expect(report.numPassedTests).toBeGreaterThan(30);
    expect(report.testResults.map(({ name, status }) => [name, status]).sort()).toEqual(
      testsToRun.map((path) => [join(copy, path), 'passed']).sort(),
    );
  }, 120_000);

  it('refuses to run again over what it wrote, and writes nothing', async () => {
    const before = snapshot(copy);
    const again = await run(copy, 'npm', ['run', '--silent', 'new-aggregate', '--', names.kebab]);
    expect(again.code).toBe(1);
    expect(again.output).toContain('refusing to overwrite');
    for (const path of generated) expect(again.output).toContain(path);
    expect(again.output).toContain('Nothing was written.');
    expect(snapshot(copy)).toEqual(before);
  });

  it('refuses a name whose OpenAPI schema id is taken, and writes nothing', async () => {
    const before = snapshot(copy);
    // Account's transactions are documented as 'Transaction'.
    const taken = await run(copy, 'npm', ['run', '--silent', 'new-aggregate', '--', 'transaction']);
    expect(taken.code).toBe(1);
    expect(taken.output).toContain("'Transaction' (read-api/accounts/account-views.ts)");
    expect(snapshot(copy)).toEqual(before);
    expect(existsSync(join(copy, 'domain', 'transactions'))).toBe(false);
  });

  it('refuses an invalid name, and writes nothing', async () => {
    const before = snapshot(copy);
    const invalid = await run(copy, 'npm', ['run', '--silent', 'new-aggregate', '--', 'Gift_Card']);
    expect(invalid.code).toBe(1);
    expect(invalid.output).toContain('"Gift_Card" is not kebab-case');
    expect(snapshot(copy)).toEqual(before);
    expect(existsSync(join(copy, 'domain', 'Gift_Cards'))).toBe(false);
  });
});
