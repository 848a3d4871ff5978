import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The layer rules, checked: the domain is pure, and only adapters in infra/ talk to drivers.
 * Imports are read with the TypeScript parser, so comments and strings cannot fool the check.
 */
const root = resolve(import.meta.dirname, '..');
const drivers = ['@eventstore/db-client', 'mongodb', 'ioredis', 'better-sqlite3', 'lru-cache', 'mingo'];

const sourceFiles = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));

const importsOf = (file: string) =>
  ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((i) => i.fileName);

const packageOf = (specifier: string) =>
  specifier.startsWith('@')
    ? specifier.split('/').slice(0, 2).join('/')
    : (specifier.split('/')[0] ?? specifier);

describe('architecture', () => {
  it('domain/ imports only itself, zod and node:assert (for its spec helper)', () => {
    // Test files may import the test runner; the rule is about the code that ships.
    const shipped = sourceFiles('domain').filter((file) => !file.endsWith('.test.ts'));
    const offending = shipped.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => {
          if (specifier.startsWith('.'))
            return relative(join(root, 'domain'), resolve(dirname(file), specifier)).startsWith('..');
          return !['zod', 'node:assert/strict'].includes(specifier);
        })
        .map((specifier) => `${relative(root, file)} imports ${specifier}`),
    );
    expect(offending).toEqual([]);
  });

  it.each(['domain', 'commands', 'projections', 'read-api'])(
    '%s/ imports no database or cache driver',
    (dir) => {
      const offending = sourceFiles(dir).flatMap((file) =>
        importsOf(file)
          .filter((specifier) => drivers.includes(packageOf(specifier)))
          .map((specifier) => `${relative(root, file)} imports ${specifier}`),
      );
      expect(offending).toEqual([]);
    },
  );

  it('the checks see imports at all (guards against a vacuous pass)', () => {
    expect(importsOf(join(root, 'infra/event-store/memory-event-store.ts'))).toContain('./event-store.js');
  });
});
