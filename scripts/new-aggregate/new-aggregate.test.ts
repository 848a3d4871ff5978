import { execFile, execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateNames } from './names.js';
import { AlreadyExistsError, newAggregate, planAggregate } from './new-aggregate.js';
import { InvalidShapeError } from './shape.js';

/**
 * The scaffolder, end to end, on a copy of this repository (its files as git sees them: tracked,
 * and untracked but not ignored; node_modules a symlink to this one's): `npm run new-aggregate`
 * for a book with fields and commands, then the copy must typecheck, pass biome and pass the
 * generated tests, wired into the app's module list, with no other file changed.
 */
const repo = resolve(import.meta.dirname, '..', '..');
const ARGS = [
  'book',
  '--field',
  'title:string',
  '--field',
  'isbn:string',
  '--command',
  'lend:memberId:string',
];
const names = aggregateNames('book');
const layers = ['domain', 'commands', 'projections', 'read-api'].map(
  (layer) => `${layer}/${names.kebabPlural}`,
);

type Run = { code: number; output: string };

/** Runs a command in `cwd`; resolves with its exit code and output, never rejects. */
const run = (cwd: string, command: string, args: readonly string[]): Promise<Run> =>
  new Promise((done) => {
    // Not our vitest worker's variables: the vitest started here is a run of its own.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST')));
    execFile(command, args, { cwd, env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      done({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });

/** The repository's files as git sees them (not node_modules, data or dist). */
const repositoryFiles = () =>
  execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repo })
    .toString('utf8')
    .split('\0')
    .filter((path) => path !== '' && existsSync(join(repo, path)));

/** Every file of the copy but node_modules, by path, with its content. */
const contents = (copy: string) =>
  new Map(
    execFileSync('find', ['.', '-path', './node_modules', '-prune', '-o', '-type', 'f', '-print'], {
      cwd: copy,
    })
      .toString('utf8')
      .split('\n')
      .filter((path) => path !== '')
      .map((path) => path.slice(2))
      .map((path) => [path, readFileSync(join(copy, path), 'utf8')] as const),
  );

describe('npm run new-aggregate', () => {
  let copy: string;
  let work: string;
  let before: Map<string, string>;
  let after: Map<string, string>;
  let scaffold: Run;
  let typecheck: Promise<Run>;
  let tests: Promise<Run>;
  let lint: Promise<Run>;
  let generated: string[];

  beforeAll(async () => {
    copy = mkdtempSync(join(tmpdir(), 'eventfold-new-aggregate-'));
    // The typecheck's config and the test report live beside the copy, not in it.
    work = mkdtempSync(join(tmpdir(), 'eventfold-new-aggregate-work-'));
    for (const path of repositoryFiles()) {
      mkdirSync(dirname(join(copy, path)), { recursive: true });
      copyFileSync(join(repo, path), join(copy, path));
    }
    symlinkSync(join(repo, 'node_modules'), join(copy, 'node_modules'), 'dir');
    before = contents(copy);

    scaffold = await run(copy, 'npm', ['run', '--silent', 'new-aggregate', '--', ...ARGS]);
    after = contents(copy);
    generated = [...after.keys()].filter((path) => !before.has(path)).sort();
    if (scaffold.code !== 0) return;
    // What the new module reaches: its files, the module list and what they import (the whole app,
    // through the list). Other work in progress in this tree is not this test's business.
    const tsconfig = join(work, 'tsconfig.json');
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: join(copy, 'tsconfig.json'),
        compilerOptions: { typeRoots: [join(copy, 'node_modules', '@types')] },
        include: [...generated, 'app/modules.ts'].map((path) => join(copy, path)),
      }),
    );
    const bin = (name: string) => join(copy, 'node_modules', '.bin', name);
    // Started together, so they share the machine's cores.
    typecheck = run(copy, bin('tsc'), ['--noEmit', '-p', tsconfig]);
    tests = run(copy, bin('vitest'), [
      'run',
      '--reporter=json',
      `--outputFile=${join(work, 'report.json')}`,
      ...layers,
    ]);
    lint = run(copy, bin('biome'), ['check', ...generated, 'app/modules.ts']);
  }, 60_000);

  afterAll(async () => {
    // Let whatever is still running finish before its folder goes.
    await Promise.allSettled([typecheck, tests, lint]);
    for (const folder of [copy, work]) if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('writes the module in every layer and its module value, and lists each file it wrote', () => {
    expect(scaffold.code, scaffold.output).toBe(0);
    expect(generated).toEqual(
      expect.arrayContaining([
        'domain/books/book.ts',
        'domain/books/book.test.ts',
        'commands/books/book-routes.ts',
        'projections/books/books-projection.ts',
        'read-api/books/book-query-routes.ts',
        'read-api/books/book-query-routes.test.ts',
        'app/modules/books.ts',
      ]),
    );
    for (const path of [...generated, 'app/modules.ts']) expect(scaffold.output).toContain(path);
    expect(scaffold.output).toContain('POST /books/:id/lend  LendBook → BookLent');
    expect(scaffold.output).not.toContain('Not formatted');
  });

  it('changes one existing file, the module list: one import, one entry', () => {
    const changed = [...before]
      .filter(([path, content]) => after.get(path) !== content)
      .map(([path]) => path);
    expect(changed).toEqual(['app/modules.ts']);
    const list = after.get('app/modules.ts') ?? '';
    expect(list).toContain("import { books } from './modules/books.js';");
    expect(list).toMatch(/export const modules = \[(?:[^\]]*, )?books\] as const;/);
    expect(
      generated.every(
        (path) => layers.some((layer) => path.startsWith(`${layer}/`)) || path === 'app/modules/books.ts',
      ),
    ).toBe(true);
  });

  it('copies real code: the fields and the command given, nothing left of the template', () => {
    const domain = after.get('domain/books/book.ts') ?? '';
    expect(domain).toMatch(/export const BookFields = z\.object\(\{\s*title: [^\n]*\n\s*isbn: [^\n]*\n\}\);/);
    expect(domain).toContain("type: z.literal('LendBook')");
    for (const path of generated) expect(after.get(path), path).not.toMatch(/sticky|scaffold:/i);
  });

  it('leaves every file it wrote formatted and lint-clean', async () => {
    const result = await lint;
    expect(result.code, result.output).toBe(0);
  });

  it('typechecks, wired into the app', async () => {
    const result = await typecheck;
    expect(result.code, result.output).toBe(0);
  }, 120_000);

  it('passes its own tests, the list route paging with a cursor among them', async () => {
    const result = await tests;
    expect(result.code, result.output).toBe(0);
    const report = JSON.parse(readFileSync(join(work, 'report.json'), 'utf8')) as {
      numFailedTests: number;
      numPassedTests: number;
      testResults: {
        name: string;
        status: string;
        assertionResults: { fullName: string; status: string }[];
      }[];
    };
    expect(report.numFailedTests).toBe(0);
    const testFiles = generated.filter((path) => path.endsWith('.test.ts'));
    expect(report.testResults.map(({ name, status }) => [name, status]).sort()).toEqual(
      testFiles.map((path) => [join(copy, path), 'passed']).sort(),
    );
    const passed = report.testResults.flatMap((file) =>
      file.assertionResults.filter((test) => test.status === 'passed').map((test) => test.fullName),
    );
    expect(passed).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^GET \/books pages with a cursor through books filtered by status/),
        expect.stringMatching(/^Book decider LendBook records BookLent/),
        expect.stringMatching(/lend: appends BookLent/),
        expect.stringMatching(/records when it was archived: the time the command carries/),
      ]),
    );
  }, 120_000);

  it('refuses to run again over what it wrote, and writes nothing', async () => {
    const again = await run(copy, 'npm', ['run', '--silent', 'new-aggregate', '--', ...ARGS]);
    expect(again.code).toBe(1);
    expect(again.output).toContain('refusing to overwrite');
    expect(again.output).toContain('domain/books/book.ts');
    expect(again.output).toContain('Nothing was written.');
    expect(contents(copy)).toEqual(after);
  });

  it.each([
    ['an invalid name', { name: 'Gift_Card' }, /"Gift_Card" is not kebab-case/],
    ['a field of an unknown type', { name: 'gift-card', fields: ['due:date'] }, /type "date" is not one of/],
    [
      'a name whose OpenAPI schema id is taken',
      { name: 'fixture-counter' },
      /'FixtureCounter' \(read-api\/testing\/fixture-query-routes\.ts\)/,
    ],
    ['a name the code uses already', { name: 'document' }, /would make .*DocumentViews/],
  ])('refuses %s, and writes nothing', (_what, options, message) => {
    expect(() => newAggregate({ root: copy, ...options })).toThrow(message);
    expect(contents(copy)).toEqual(after);
  });

  it('refuses bad input on the command line with exit code 1, saying why', async () => {
    const bad = await run(copy, 'npm', [
      'run',
      '--silent',
      'new-aggregate',
      '--',
      'gift-card',
      '--command',
      'Lend',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.output).toContain('new-aggregate: --command Lend: command "Lend" is not kebab-case');
    expect(bad.output).toContain('Nothing was written.');
    expect(existsSync(join(copy, 'domain', 'gift-cards'))).toBe(false);
  });

  it('plans without writing: the errors are the ones the command line reports', () => {
    expect(() => planAggregate({ root: copy, name: 'gift-card', commands: ['edit'] })).toThrow(
      InvalidShapeError,
    );
    expect(() => planAggregate({ root: copy, name: 'book' })).toThrow(AlreadyExistsError);
  });
});
