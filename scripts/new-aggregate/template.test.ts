import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aggregateNames } from './names.js';
import { aggregateShape } from './shape.js';
import { MARKERS } from './shape-code.js';
import { clashingNames, nameMap, rename, renderAggregate, TEMPLATE, templateFiles } from './template.js';

const root = resolve(import.meta.dirname, '..', '..');
const book = aggregateNames('book');
const shape = aggregateShape(book, {
  fields: ['title:string', 'isbn:string', 'pages:number', 'signed:boolean'],
  commands: ['lend:memberId:string:days:number', 'return'],
});
const files = templateFiles(root);
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const markersIn = (source: string) =>
  [...source.matchAll(/\/\/ scaffold:([\w-]+)/g)].map(([, marker = '']) => marker);

describe('the template', () => {
  it('is the sticky-notes module, in every layer', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'domain/sticky-notes/sticky-note.ts',
        'commands/sticky-notes/sticky-note-routes.ts',
        'projections/sticky-notes/sticky-notes-projection.ts',
        'read-api/sticky-notes/sticky-note-query-routes.ts',
        'app/modules/sticky-notes.ts',
      ]),
    );
  });

  it('says what each of its files is for', () => {
    for (const file of renderAggregate(root, book, shape)) expect(file.purpose, file.path).not.toBe('');
  });

  it('reads no clock in its domain: the time comes with the command', () => {
    for (const path of files.filter((file) => file.startsWith('domain/') && !file.endsWith('.test.ts')))
      expect(read(path), path).not.toMatch(/Date\.now|new Date\(|performance\.now/);
  });

  it('marks each place a command goes once, and only with markers the scaffolder knows', () => {
    const markers = files.flatMap((path) => markersIn(read(path)));
    expect(MARKERS.filter((marker) => !markers.includes(marker))).toEqual([]);
    expect(markers.filter((marker) => !MARKERS.includes(marker))).toEqual([]);
    const once = markers.filter((marker) => marker !== 'note');
    expect(once).toEqual([...new Set(once)]);
  });
});

describe('copying the template', () => {
  it('maps every spelling of the name, longest first', () => {
    const map = nameMap(TEMPLATE, aggregateNames('order-line'));
    expect(Object.fromEntries(map)).toEqual({
      'sticky-note': 'order-line',
      'sticky-notes': 'order-lines',
      stickyNote: 'orderLine',
      stickyNotes: 'orderLines',
      StickyNote: 'OrderLine',
      StickyNotes: 'OrderLines',
      sticky_note: 'order_line',
      sticky_notes: 'order_lines',
      STICKY_NOTE: 'ORDER_LINE',
      STICKY_NOTES: 'ORDER_LINES',
      'sticky note': 'order line',
      'sticky notes': 'order lines',
      'Sticky note': 'Order line',
      'Sticky notes': 'Order lines',
      'a sticky note': 'an order line',
      'A sticky note': 'An order line',
    });
    expect(map.map(([from]) => from.length)).toEqual(map.map(([from]) => from.length).sort((a, b) => b - a));
    expect(rename('STICKY_NOTES_PROJECTION stickyNoteId a sticky note', map)).toBe(
      'ORDER_LINES_PROJECTION orderLineId an order line',
    );
  });

  it('leaves nothing of the template in what it writes: no name, no marker, no note', () => {
    for (const file of renderAggregate(root, book, shape)) {
      expect(file.path).not.toMatch(/sticky|notes?\b/i);
      expect(file.content, file.path).not.toMatch(/sticky|\bnotes?\b|scaffold:/i);
    }
  });

  it('with no fields and no commands, copies the template renamed, its marker lines left out', () => {
    const map = nameMap(TEMPLATE, book);
    const rendered = renderAggregate(root, book, { commands: [] });
    expect(rendered.map((file) => file.path)).toEqual(files.map((path) => rename(path, map)));
    for (const [i, file] of rendered.entries()) {
      const expected = rename(read(files[i] ?? ''), map)
        .split('\n')
        .filter((line) => !/^\s*\/\/ scaffold:/.test(line))
        .join('\n');
      expect(file.content, file.path).toBe(expected);
    }
  });

  it('puts the fields in the one field list and the tests’ samples', () => {
    const rendered = new Map(renderAggregate(root, book, shape).map((file) => [file.path, file.content]));
    expect(rendered.get('domain/books/book.ts')).toContain(
      [
        'export const BookFields = z.object({',
        "  title: z.string().trim().min(1, 'title must not be blank').max(200),",
        "  isbn: z.string().trim().min(1, 'isbn must not be blank').max(200),",
        '  pages: z.number().int(),',
        '  signed: z.boolean(),',
        '});',
      ].join('\n'),
    );
    expect(rendered.get('domain/books/testing/book-samples.ts')).toContain(
      [
        "  created: { title: 'title 1', isbn: 'isbn 1', pages: 1, signed: false },",
        "  edit: { title: 'title 2' },",
        "  invalid: { title: '   ' },",
      ].join('\n'),
    );
  });

  it('gives each command a schema, an event, decide and evolve branches, a route, a projection and tests', () => {
    const all = renderAggregate(root, book, shape)
      .map((file) => file.content)
      .join('\n');
    for (const code of [
      'export const LendBook = z.object({',
      "  memberId: z.string().trim().min(1, 'memberId must not be blank').max(200),",
      'export const BookLent = z.object({',
      "case 'LendBook': {",
      "case 'BookLent':",
      'export const LendBookBody = z.strictObject(LendBook.omit({ type: true, bookId: true }).shape);',
      "'/books/:id/lend',",
      "summary: 'Lend a book',",
      "describe('LendBook', () => {",
      "it('lend: appends BookLent', async () => {",
      "it('BookLent: the revision it reflects', () =>",
      "'/books/:id/return',",
      'body: z.strictObject({}).nullish(),',
    ])
      expect(all).toContain(code);
  });
});

describe('names the copy would clash with', () => {
  it('finds none for an ordinary name, or for the commands given', () => {
    expect(clashingNames(root, book, ['LendBook', 'BookLent', 'LendBookBody'])).toEqual([]);
  });

  it('finds an identifier the template uses for something else', () => {
    // stickyNoteViews → documentViews, which the read routes take from the query context.
    expect(clashingNames(root, aggregateNames('document'))).toEqual(
      expect.arrayContaining(['documentViews', 'DocumentViews']),
    );
    // readStickyNote → readStore, the read model's parameter.
    expect(clashingNames(root, aggregateNames('store'))).toContain('readStore');
  });

  it('finds a command named like what the copy declares', () => {
    expect(clashingNames(root, book, ['BookFields'])).toEqual(['BookFields']);
  });
});
