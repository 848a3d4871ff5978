import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { type AggregateNames, aggregateNames, capitalize } from './names.js';
import type { AggregateShape } from './shape.js';
import { applyShape } from './shape-code.js';

/**
 * The template a new aggregate is copied from: the sticky-notes module, real code checked in with
 * the rest (app/modules/sticky-notes.ts says more). Its name has two words, so that every spelling
 * differs from every other (sticky-note, stickyNote, StickyNote, sticky_note, STICKY_NOTE, and
 * their plurals): the copy maps each to the new name's.
 */
export const TEMPLATE = aggregateNames('sticky-note');

export type GeneratedFile = {
  /** Repository-relative, with "/" separators. */
  path: string;
  /** One line on what the file is for, for the scaffolder's report. */
  purpose: string;
  content: string;
};

export class TemplateMissingError extends Error {
  override readonly name = 'TemplateMissingError';
}

/** The template's folders, one per layer, and its module value in app/. */
const templateRoots = (t: AggregateNames) => [
  ...['domain', 'commands', 'projections', 'read-api'].map((layer) => `${layer}/${t.kebabPlural}`),
  `app/modules/${t.kebabPlural}.ts`,
];

/** What each template file is for, by its path in the template. */
const PURPOSES: Record<string, string> = {
  'domain/sticky-notes/sticky-note.ts':
    'zod fields, commands and events, the decider (the rules), the Aggregate',
  'domain/sticky-notes/sticky-note.test.ts': 'the rules as given/when/then (time fixed)',
  'domain/sticky-notes/testing/sticky-note-samples.ts': 'field values for the tests of every layer',
  'commands/sticky-notes/sticky-note-routes.ts':
    'the write routes (create, edit, archive, yours); the clock the commands’ times come from',
  'commands/sticky-notes/index.ts': 'the module’s write side: its command routes',
  'commands/sticky-notes/sticky-note-routes.test.ts':
    'the write routes through inject: rules, bad input, the clock, idempotency, concurrency',
  'projections/sticky-notes/sticky-notes-projection.ts':
    'the sticky_notes read model (guarded upserts), its index, its cache entries',
  'projections/sticky-notes/index.ts': 'the module’s read models',
  'projections/sticky-notes/sticky-notes-projection.test.ts':
    'given events, then documents; replays change nothing',
  'read-api/sticky-notes/sticky-note-views.ts': 'the views and query parameters the read routes answer with',
  'read-api/sticky-notes/sticky-note-read-model.ts': 'the queries: one by id, a page by status',
  'read-api/sticky-notes/sticky-note-reader.ts':
    'one sticky note, cache first (or fresh after x-min-position)',
  'read-api/sticky-notes/sticky-note-query-routes.ts':
    'GET /sticky-notes/:id and GET /sticky-notes (filter, limit, cursor)',
  'read-api/sticky-notes/index.ts': 'the module’s read side: its query routes',
  'read-api/sticky-notes/sticky-note-query-routes.test.ts':
    'the read routes: cache, 404, paging with a cursor, bad input, x-min-position',
  'read-api/sticky-notes/sticky-note-read-your-writes.test.ts':
    'end to end through the module: write API → projectors → read API; its API docs',
  'app/modules/sticky-notes.ts': 'the module: its command routes, projections, query routes and API tags',
};

/** Every file of the template under `root`, repository-relative, layer by layer. */
export const templateFiles = (root: string): string[] => {
  const files: string[] = [];
  for (const path of templateRoots(TEMPLATE)) {
    const full = join(root, path);
    if (!existsSync(full))
      throw new TemplateMissingError(`the template is missing: ${path} (git checkout it, or copy it back)`);
    if (path.endsWith('.ts')) files.push(path);
    else
      files.push(
        ...readdirSync(full, { withFileTypes: true, recursive: true })
          .filter((entry) => entry.isFile())
          .map((entry) => relative(root, join(entry.parentPath, entry.name)).replaceAll('\\', '/'))
          .sort(),
      );
  }
  return files;
};

const article = (words: string) => (/^[aeiou]/.test(words) ? 'an' : 'a');

/**
 * Each spelling of the template's name, with the new aggregate's: the name map. Longest first, so
 * that a plural is matched before the singular it starts with.
 */
export const nameMap = (from: AggregateNames, to: AggregateNames): [string, string][] => {
  const forms = [
    'kebab',
    'kebabPlural',
    'camel',
    'camelPlural',
    'pascal',
    'pascalPlural',
    'snake',
    'snakePlural',
    'constant',
    'constantPlural',
    'words',
    'wordsPlural',
    'capitalWords',
    'capitalWordsPlural',
  ] as const;
  const pairs: [string, string][] = forms.map((form) => [from[form], to[form]]);
  // The article goes with the word: "a sticky note" becomes "an order".
  pairs.push([`a ${from.words}`, `${article(to.words)} ${to.words}`]);
  pairs.push([`A ${from.words}`, `${capitalize(article(to.words))} ${to.words}`]);
  return pairs.sort(([a], [b]) => b.length - a.length);
};

/** `text` with every spelling of one name replaced by the other's, in one pass. */
export const rename = (text: string, map: readonly [string, string][]): string => {
  const to = new Map(map);
  const pattern = new RegExp(map.map(([from]) => from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return text.replace(pattern, (found) => to.get(found) ?? found);
};

/**
 * The new aggregate's files: the template's, renamed (paths and contents), with the shape's fields
 * and commands, without the template's markers. Reads the template under `root`; writes nothing.
 */
export const renderAggregate = (
  root: string,
  names: AggregateNames,
  shape: AggregateShape,
): GeneratedFile[] => {
  const map = nameMap(TEMPLATE, names);
  return templateFiles(root).map((path) => {
    const target = rename(path, map);
    const source = rename(readFileSync(join(root, path), 'utf8'), map);
    return {
      path: target,
      purpose: rename(PURPOSES[path] ?? '', map),
      content: applyShape(target, source, names, shape),
    };
  });
};

/** Every identifier in `source`'s code (not in its comments or strings). */
const identifiersOf = (source: string): string[] => {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, source);
  const found: string[] = [];
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan())
    if (token === ts.SyntaxKind.Identifier) found.push(scanner.getTokenText());
  return found;
};

/**
 * The identifiers the new name would make that the template already uses for something else: an
 * aggregate named `document` would turn stickyNoteViews into documentViews, which the read routes
 * receive from the query context. `extra` are further identifiers the new code declares (its
 * commands'). Empty when nothing clashes.
 */
export const clashingNames = (
  root: string,
  names: AggregateNames,
  extra: readonly string[] = [],
): string[] => {
  const map = nameMap(TEMPLATE, names);
  const spellings = new RegExp(map.map(([from]) => from).join('|'));
  const identifiers = new Set(
    templateFiles(root).flatMap((path) => identifiersOf(readFileSync(join(root, path), 'utf8'))),
  );
  const named = [...identifiers].filter((identifier) => spellings.test(identifier));
  const others = new Set([...identifiers].filter((identifier) => !spellings.test(identifier)));
  const renamed = new Set(named.map((identifier) => rename(identifier, map)));
  const clashes = [
    ...[...renamed].filter((identifier) => others.has(identifier)),
    ...extra.filter(
      (identifier, i) => others.has(identifier) || renamed.has(identifier) || extra.indexOf(identifier) !== i,
    ),
  ];
  return [...new Set(clashes)];
};
