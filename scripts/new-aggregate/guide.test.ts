import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedFiles } from './generated-files.js';
import { aggregateNames } from './names.js';
import { wirings } from './wiring.js';

/**
 * docs/adding-an-aggregate.md quotes real code. Each excerpt is marked with where it comes from,
 *   <!-- excerpt: domain/loyalty-cards/loyalty-card.ts -->             a file the scaffolder writes
 *   <!-- excerpt: read-api/read-api.ts (wired for loyalty-card) -->    a wiring file, once wired
 *   <!-- excerpt: projections/engine/guarded-upsert.ts -->             any other file of the repo
 * and must appear there (a `// …` line stands for code left out), so the guide cannot drift.
 */
const root = resolve(import.meta.dirname, '..', '..');
const guide = readFileSync(join(root, 'docs', 'adding-an-aggregate.md'), 'utf8');
const names = aggregateNames('loyalty-card');
const generated = new Map(generatedFiles(names).map((file) => [file.path, file.content]));

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
  ...guide.matchAll(/<!-- excerpt: (\S+)( \(wired for loyalty-card\))? -->\n\s*```ts\n([\s\S]*?)\n\s*```/g),
].map(([, path = '', wired, code = '']) => ({ path, wired: wired !== undefined, code }));

describe('docs/adding-an-aggregate.md', () => {
  it('quotes code', () => {
    expect(excerpts.length).toBeGreaterThanOrEqual(10);
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
});
