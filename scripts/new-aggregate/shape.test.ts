import { describe, expect, it } from 'vitest';
import { aggregateNames } from './names.js';
import { aggregateShape, commandNames, InvalidShapeError, pastTenseOf } from './shape.js';

const book = aggregateNames('book');
const shape = (options: { fields?: string[]; commands?: string[] }) => aggregateShape(book, options);

describe('--field and --command', () => {
  it('parses fields of each type, in order, and commands with their fields', () => {
    expect(
      shape({
        fields: ['title:string', 'pages:number', 'signed:boolean'],
        commands: ['lend:memberId:string:days:number', 'mark-read', 'shelve/shelved:shelf:string'],
      }),
    ).toEqual({
      fields: [
        { name: 'title', type: 'string' },
        { name: 'pages', type: 'number' },
        { name: 'signed', type: 'boolean' },
      ],
      commands: [
        {
          name: 'lend',
          past: 'lent',
          fields: [
            { name: 'memberId', type: 'string' },
            { name: 'days', type: 'number' },
          ],
        },
        { name: 'mark-read', past: 'marked-read', fields: [] },
        { name: 'shelve', past: 'shelved', fields: [{ name: 'shelf', type: 'string' }] },
      ],
    });
  });

  it("keeps the template's fields when none is given", () => {
    expect(shape({})).toEqual({ commands: [] });
  });

  it('names a command, its event and its body after the aggregate', () => {
    const [lend] = shape({ commands: ['lend:memberId:string'] }).commands;
    expect(lend && commandNames(book, lend)).toEqual({
      command: 'LendBook',
      event: 'BookLent',
      body: 'LendBookBody',
    });
  });

  it.each([
    ['lend', 'lent'],
    ['pay', 'paid'],
    ['archive', 'archived'],
    ['copy', 'copied'],
    ['play', 'played'],
    ['stop', 'stopped'],
    ['submit', 'submitted'],
    ['open', 'opened'],
    ['fix', 'fixed'],
    ['mark-read', 'marked-read'],
    ['check-out', 'checked-out'],
  ])('names the event of %s with %s', (command, past) => {
    expect(pastTenseOf(command)).toBe(past);
  });

  it.each([
    ['a field without a type', { fields: ['title'] }, /--field title: expected name:type/],
    ['an unknown type', { fields: ['due:date'] }, /type "date" is not one of string, number, boolean/],
    ['a field that is not camelCase', { fields: ['Title:string'] }, /"Title" is not camelCase/],
    ['a kebab-case field', { fields: ['due-date:string'] }, /"due-date" is not camelCase/],
    [
      'a field named like the id',
      { fields: ['bookId:string'] },
      /"bookId" is a name the generated code uses/,
    ],
    ['a field named like a document key', { fields: ['status:string'] }, /"status" is a name/],
    ['a field named like an object property', { fields: ['constructor:string'] }, /"constructor" is a name/],
    ['a field twice', { fields: ['title:string', 'title:number'] }, /--field title is given twice/],
    ['a command that is not kebab-case', { commands: ['Lend'] }, /command "Lend" is not kebab-case/],
    [
      "one of the template's commands",
      { commands: ['archive'] },
      /archive is one of the template's commands/,
    ],
    ['an event the template has', { commands: ['make/created'] }, /BookCreated, which the template has/],
    ['a command twice', { commands: ['lend', 'lend:x:string'] }, /--command lend is given twice/],
    ['two commands with one event', { commands: ['lend', 'loan/lent'] }, /its event BookLent is another/],
    ['a command field without a type', { commands: ['lend:memberId'] }, /expected name:type pairs/],
    ['a command field of an unknown type', { commands: ['lend:until:date'] }, /type "date" is not one of/],
    ['a command field twice', { commands: ['lend:a:string:a:number'] }, /field "a" is given twice/],
    ['a command field named like the id', { commands: ['lend:bookId:string'] }, /"bookId" is a name/],
    ['two past tenses', { commands: ['lend/lent/loaned'] }, /expected name or name\/past/],
  ])('refuses %s, saying why', (_what, options, message) => {
    expect(() => shape(options)).toThrow(InvalidShapeError);
    expect(() => shape(options)).toThrow(message);
  });
});
