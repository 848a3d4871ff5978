import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { example, removeMarked } from './example-remove.js';

/**
 * docs/evolving-events.md quotes real code, as docs/adding-an-aggregate.md does (see
 * new-aggregate/guide.test.ts): each excerpt is marked `<!-- excerpt: <file> -->` and must appear in
 * that file (a `// …` line stands for code left out), so the guide cannot drift. What it says of
 * the example goes with it (npm run example:remove): what stays quotes only files that stay.
 */
const root = resolve(import.meta.dirname, '..');
const guide = readFileSync(join(root, 'docs', 'evolving-events.md'), 'utf8');

// Compares code, not layout: biome wraps code and adds trailing commas as it wraps.
const normalize = (code: string) => code.replace(/\s+/g, '').replace(/,(?=[)\]}]|$)/g, '');

const excerptsOf = (text: string) =>
  [...text.matchAll(/<!-- excerpt: (\S+) -->\n\s*```ts\n([\s\S]*?)\n\s*```/g)].map(
    ([, path = '', code = '']) => ({
      path,
      code,
    }),
  );
const excerpts = excerptsOf(guide);
const isExample = (path: string) => example.folders.some((folder) => path.startsWith(`${folder}/`));
const exampleHere = existsSync(join(root, example.folders[0]));

describe('docs/evolving-events.md', () => {
  it('quotes the engine’s use in the template, and the worked example while the example is here', () => {
    expect(excerpts.filter((e) => !isExample(e.path)).length).toBeGreaterThanOrEqual(2);
    if (exampleHere) expect(excerpts.filter((e) => isExample(e.path)).length).toBeGreaterThanOrEqual(4);
  });

  it.each(excerpts.map((excerpt) => [excerpt.path, excerpt] as const))(
    'quotes %s as it is',
    (_path, { path, code }) => {
      const source = normalize(readFileSync(join(root, path), 'utf8'));
      let from = 0;
      for (const fragment of code.split(/^\s*\/\/ …\s*$/m).map(normalize)) {
        const at = source.indexOf(fragment, from);
        expect(at, `not in ${path}:\n${fragment}`).toBeGreaterThanOrEqual(0);
        from = at + fragment.length;
      }
    },
  );

  it('without the example, quotes no file of it and does not speak of it', () => {
    const { text } = removeMarked(guide, 'docs/evolving-events.md');
    expect(excerptsOf(text).filter((e) => isExample(e.path))).toEqual([]);
    expect(text).not.toMatch(/example:(start|end|replace)/);
    expect(text).not.toMatch(/\/accounts|\/transfers|Account|Transfer|MoneyDeposited|deposit/);
  });
});
