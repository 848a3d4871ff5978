import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { aggregateNames } from './names.js';
import { aggregateShape } from './shape.js';
import { renderAggregate } from './template.js';
import { wirings } from './wiring.js';

/**
 * docs/adding-an-aggregate.md quotes real code. Its first `npm run new-aggregate -- …` line is
 * run here, in memory, on the template; each excerpt is marked with where it comes from,
 *   <!-- excerpt: domain/books/book.ts -->                   a file that command writes
 *   <!-- excerpt: app/modules.ts (wired for book) -->        a wiring file, once wired
 *   <!-- excerpt: projections/engine/guarded-upsert.ts -->   any other file of the repo
 * and must appear there (a `// …` line stands for code left out), so the guide cannot drift.
 */
const root = resolve(import.meta.dirname, '..', '..');
const guide = readFileSync(join(root, 'docs', 'adding-an-aggregate.md'), 'utf8');

const commandLine = /^npm run new-aggregate -- (.+)$/m.exec(guide)?.[1] ?? '';
const { positionals, values } = parseArgs({
  args: commandLine.split(/\s+/),
  allowPositionals: true,
  options: {
    plural: { type: 'string' },
    field: { type: 'string', multiple: true },
    command: { type: 'string', multiple: true },
  },
});
const names = aggregateNames(positionals[0] ?? '', values.plural);
const shape = aggregateShape(names, { fields: values.field, commands: values.command });
const generated = new Map(renderAggregate(root, names, shape).map((file) => [file.path, file.content]));

const sourceOf = (path: string, wired: boolean): string => {
  const generatedContent = generated.get(path);
  if (generatedContent !== undefined) return generatedContent;
  const source = readFileSync(join(root, path), 'utf8');
  if (!wired) return source;
  const wiring = wirings.find((w) => w.file === path);
  if (!wiring) throw new Error(`${path} is not a wiring file`);
  return wiring.wire(source, names);
};

// Compares code, not layout: biome wraps the generated code and adds trailing commas as it wraps.
const normalize = (code: string) => code.replace(/\s+/g, '').replace(/,(?=[)\]}]|$)/g, '');

const excerpts = [
  ...guide.matchAll(/<!-- excerpt: (\S+)( \(wired for [a-z-]+\))? -->\n\s*```ts\n([\s\S]*?)\n\s*```/g),
].map(([, path = '', wired, code = '']) => ({ path, wired: wired !== undefined, code }));

describe('docs/adding-an-aggregate.md', () => {
  it('runs the scaffolder on an aggregate with fields and a command', () => {
    expect(names.kebab).toBe('book');
    expect(shape.fields?.length).toBeGreaterThan(0);
    expect(shape.commands.length).toBeGreaterThan(0);
  });

  it('quotes code', () => {
    expect(excerpts.length).toBeGreaterThanOrEqual(15);
    expect(guide).toContain(`(wired for ${names.kebab})`);
  });

  it.each(excerpts.map((excerpt) => [excerpt.path, excerpt] as const))(
    'quotes %s as it is',
    (_path, { path, wired, code }) => {
      const source = normalize(sourceOf(path, wired));
      let from = 0;
      for (const fragment of code.split(/^\s*\/\/ …\s*$/m).map(normalize)) {
        const at = source.indexOf(fragment, from);
        expect(at, `not in ${path}:\n${fragment}`).toBeGreaterThanOrEqual(0);
        from = at + fragment.length;
      }
    },
  );

  it('lists every file the scaffolder writes', () => {
    for (const path of generated.keys()) expect(guide).toContain(`\`${path}\``);
  });

  it('shows how a decider gets the time, and says Date.now() stays out of domain/', () => {
    expect(guide).toMatch(/The time: a clock passed in/);
    expect(guide).toMatch(/no\s+`Date\.now\(\)` in `domain\/`/);
  });
});
