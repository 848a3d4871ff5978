import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { example, RefusedError, removeMarked, withoutModules } from './example-remove.js';

const root = resolve(import.meta.dirname, '..');

describe('marked parts', () => {
  it('removes Markdown parts across lines and within one, and puts the replacements in', () => {
    const text = [
      'Intro: keep <!-- example:start -->the example<!-- example:end --><!-- example:replace yours --> here.',
      '',
      '<!-- example:start -->',
      '## The example',
      '',
      'about it',
      '<!-- example:end -->',
      '<!-- example:replace',
      'In its place.',
      '-->',
      '',
      'The end.',
      '',
    ].join('\n');
    expect(removeMarked(text, 'README.md')).toEqual({
      text: 'Intro: keep yours here.\n\n\nIn its place.\n\nThe end.\n'.replace('\n\n\n', '\n\n'),
      removed: 2,
      replaced: 2,
    });
  });

  it('removes whole lines between line comments, and uncomments replacement lines', () => {
    const text = [
      'KEEP=1',
      '',
      '# example:start',
      '# the example',
      'EXAMPLE=2',
      '# example:end',
      '',
      '    # example:replace echo instead',
      'LAST=3',
      '',
    ].join('\n');
    expect(removeMarked(text, '.env.example')).toEqual({
      text: 'KEEP=1\n\n    echo instead\nLAST=3\n',
      removed: 1,
      replaced: 1,
    });
  });

  it.each([
    ['a start without its end', 'a\n# example:start\nb\n'],
    ['an end without its start', 'a\n# example:end\n'],
    ['a start inside another', '# example:start\n# example:start\n# example:end\n'],
    ['an HTML start without its end', 'a <!-- example:start --> b'],
    ['an HTML end first', 'a <!-- example:end --> b <!-- example:start --> c <!-- example:end -->'],
  ])('refuses %s', (_name, text) => {
    expect(() => removeMarked(text, 'file')).toThrow(RefusedError);
  });

  it('leaves a file without markers as it is', () => {
    expect(removeMarked('a\n\nb\n', 'f')).toEqual({ text: 'a\n\nb\n', removed: 0, replaced: 0 });
  });
});

describe('the module list', () => {
  const files = ['app/modules/accounts.ts', 'app/modules/transfers.ts'];

  it('loses the imports and the entries of the modules that go, whatever the layout', () => {
    const source = [
      "import { accounts } from './modules/accounts.js';",
      "import { books } from './modules/books.js';",
      "import { transfers } from './modules/transfers.js';",
      '',
      "/** The app's modules. */",
      'export const modules = [',
      '  accounts,',
      '  transfers,',
      '  books,',
      '] as const;',
      '',
    ].join('\n');
    expect(withoutModules(source, files)).toEqual({
      source: [
        "import { books } from './modules/books.js';",
        '',
        "/** The app's modules. */",
        'export const modules = [books] as const;',
        '',
      ].join('\n'),
      entries: ['accounts', 'transfers'],
    });
  });

  it('leaves an empty list when only the example was listed', () => {
    const { source } = withoutModules(readFileSync(join(root, 'app/modules.ts'), 'utf8'), files);
    expect(source).not.toMatch(/accounts|transfers/);
    expect(source).toMatch(/export const modules = \[[^\]]*\] as const;/);
  });
});

/**
 * The real thing, on a copy of the repository's tracked files (node_modules linked): the example
 * goes, a second run refuses, and what is left typechecks and lints. Its tests are not run here
 * (too slow for every npm test): CI runs them on such a copy (.ci/run).
 */
const gitFiles = spawnSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' });
const exampleHere = example.moduleFiles.some((file) => existsSync(join(root, file)));
const skip =
  gitFiles.status !== 0
    ? 'not a git checkout (git ls-files lists the files to copy)'
    : !exampleHere
      ? 'the example is already removed from this repository'
      : undefined;
if (skip) console.warn(`skipped: npm run example:remove on a copy of the repository — ${skip}`);

describe.skipIf(skip)('npm run example:remove, on a copy of the repository', () => {
  let copy = '';
  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), 'eventfold-example-remove-'));
    // Readable by other users: some tests run a process as `nobody` when run as root.
    chmodSync(copy, 0o755);
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  const run = (command: string, args: string[]) => {
    const result = spawnSync(command, args, {
      cwd: copy,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    return { code: result.status, output: `${result.stdout}${result.stderr}` };
  };

  it('removes the example, refuses a second time, and leaves a project that typechecks and lints', () => {
    for (const file of gitFiles.stdout.split('\0').filter(Boolean)) {
      if (!existsSync(join(root, file))) continue; // deleted in the working tree
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      cpSync(join(root, file), join(copy, file));
    }
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));

    const removal = run('npm', ['run', '--silent', 'example:remove']);
    expect(removal.code, removal.output).toBe(0);
    for (const path of [...example.folders, ...example.moduleFiles, ...example.files])
      expect(existsSync(join(copy, path)), path).toBe(false);
    expect(removal.output).toContain('from app/modules.ts: accounts, transfers');
    expect(removal.output).toMatch(/README\.md: \d+ marked parts/);
    expect(readFileSync(join(copy, 'app/modules.ts'), 'utf8')).toMatch(
      /export const modules = \[\] as const;/,
    );
    expect(readFileSync(join(copy, '.env.example'), 'utf8')).not.toContain('TRANSFER_');
    for (const doc of ['README.md', 'docs/production.md', 'docs/adding-an-aggregate.md']) {
      const text = readFileSync(join(copy, doc), 'utf8');
      expect(text, doc).not.toMatch(/example:(start|end|replace)/);
      expect(text, doc).not.toMatch(/\/accounts|\/transfers|Account|Transfer/);
    }
    // The engines and the scaffolder's template stay.
    for (const path of ['projections/engine', 'commands/process-manager', 'app/testing/fixture-module.ts'])
      expect(existsSync(join(copy, path)), path).toBe(true);

    const again = run('npm', ['run', '--silent', 'example:remove']);
    expect(again.code).toBe(1);
    expect(again.output).toContain('the example is already removed');

    const typecheck = run('npx', ['tsc', '--noEmit']);
    expect(typecheck.code, typecheck.output).toBe(0);
    const lint = run('npx', ['biome', 'check', '.']);
    expect(lint.code, lint.output).toBe(0);
  }, 180_000);
});
