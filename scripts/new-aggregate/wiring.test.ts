import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { aggregateNames } from './names.js';
import { modulesWiring, WiringError, wirings } from './wiring.js';

const root = resolve(import.meta.dirname, '..', '..');
const names = aggregateNames('gift-card');

const syntaxErrors = (source: string) =>
  (ts.transpileModule(source, { reportDiagnostics: true }).diagnostics ?? []).map((d) =>
    ts.flattenDiagnosticMessageText(d.messageText, '\n'),
  );

/** The source with every run of whitespace made one space: compares code, not layout. */
const squash = (source: string) => source.replace(/\s+/g, ' ');

describe('wiring the repository’s own module list', () => {
  const before = readFileSync(join(root, modulesWiring.file), 'utf8');

  it('is the only file the scaffolder changes', () => {
    expect(wirings.map((wiring) => wiring.file)).toEqual(['app/modules.ts']);
  });

  it('adds one import and one entry, and still parses', () => {
    const after = modulesWiring.wire(before, names);
    expect(syntaxErrors(after)).toEqual([]);
    expect(after).toContain("import { giftCards } from './modules/gift-cards.js';");
    expect(squash(after)).toMatch(/export const modules = \[(?:[^\]]*, )?giftCards\] as const;/);
    // Only insertions: every line of the file is still there but the list's, which gained the entry;
    // and one line more, the import.
    const changed = before.split('\n').filter((line) => !after.split('\n').includes(line));
    expect(changed).toEqual([expect.stringMatching(/^export const modules = \[/)]);
    expect(after.split('\n').length).toBe(before.split('\n').length + 1);
  });

  it('refuses to wire the same aggregate twice', () => {
    const once = modulesWiring.wire(before, names);
    expect(() => modulesWiring.wire(once, names)).toThrow(/already lists giftCards|already imports/);
  });
});

describe('wiring a module list of another shape', () => {
  it('appends to an empty list, and to a list without `as const`', () => {
    expect(modulesWiring.wire('export const modules = [] as const;\n', names)).toContain(
      '= [giftCards] as const;',
    );
    const plain = "import { a } from './modules/a.js';\nexport const modules: M[] = [a];\n";
    const wired = modulesWiring.wire(plain, names);
    expect(wired).toContain('= [a, giftCards];');
    expect(wired).toContain("import { a } from './modules/a.js';\nimport { giftCards }");
  });

  it.each([
    ['no module list', 'export const other = [a];', /expected a top-level `const modules = \[ … \]`/],
    ['a list built elsewhere', 'export const modules = all();', /expected `modules` to be an array literal/],
  ])('says what it expected when there is %s', (_what, source, message) => {
    expect(() => modulesWiring.wire(source, names)).toThrow(WiringError);
    expect(() => modulesWiring.wire(source, names)).toThrow(message);
  });
});
