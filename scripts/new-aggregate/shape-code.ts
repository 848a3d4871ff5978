import { type AggregateNames, capitalize } from './names.js';
import { type AggregateShape, type CommandSpec, commandNames, type Field } from './shape.js';

/**
 * Gives a renamed copy of the template the new aggregate's fields and commands. The template marks
 * where they go with whole-line comments, `// scaffold:<marker>`:
 *
 *   fields, samples   the next object literal is the field list (or the tests' field values):
 *                     replaced by the given fields, when there are any
 *   note              a comment on the template itself (`// scaffold:note …`), for its readers
 *   any other marker  each given command's code for that place is inserted before the line,
 *                     indented as the marker is (a schema, a union member, a decide branch…)
 *
 * The marker lines themselves are left out of the copy, which reads as if written by hand.
 */
export class TemplateMarkerError extends Error {
  override readonly name = 'TemplateMarkerError';
}

const MARKER = /^(\s*)\/\/ scaffold:([\w-]+)(?:\s.*)?$/;

/** A zod schema for a field of each type. */
const schemaOf = (field: Field): string => {
  switch (field.type) {
    case 'string':
      return `z.string().trim().min(1, '${field.name} must not be blank').max(200)`;
    case 'number':
      return 'z.number().int()';
    case 'boolean':
      return 'z.boolean()';
  }
};

/** A valid value of a field, as code: `which` 1 and 2 differ. */
const sampleOf = (field: Field, which: 1 | 2): string => {
  switch (field.type) {
    case 'string':
      return `'${field.name} ${which}'`;
    case 'number':
      return String(which);
    case 'boolean':
      return which === 1 ? 'false' : 'true';
  }
};

/** A value its schema refuses, as code. */
const invalidOf = (field: Field): string => {
  switch (field.type) {
    case 'string':
      return "'   '";
    case 'number':
      return '1.5';
    case 'boolean':
      return "'yes'";
  }
};

/** "Lend", "Mark read": a command's name as the first words of a route summary. */
const summaryOf = (command: string) => capitalize(command.replaceAll('-', ' '));
const article = (words: string) => (/^[aeiou]/.test(words) ? 'an' : 'a');

const entries = (fields: readonly Field[], value: (field: Field) => string) =>
  fields.map((field) => `${field.name}: ${value(field)}`);
/** `{ a: 1, b: 2 }`, or `{}`. */
const literal = (items: readonly string[]) => (items.length === 0 ? '{}' : `{ ${items.join(', ')} }`);

/** The code each marker receives for one command. */
const commandCode: Record<string, (n: AggregateNames, command: CommandSpec) => string> = {
  commands: (n, c) => {
    const k = commandNames(n, c);
    return [
      `export const ${k.command} = z.object({`,
      `  type: z.literal('${k.command}'),`,
      `  ${n.idField}: ${n.pascal}Id,`,
      ...entries(c.fields, schemaOf).map((entry) => `  ${entry},`),
      '});',
    ].join('\n');
  },
  'command-types': (n, c) => `${commandNames(n, c).command},`,
  events: (n, c) => {
    const k = commandNames(n, c);
    return [
      `export const ${k.event} = z.object({`,
      `  type: z.literal('${k.event}'),`,
      `  data: z.object({ ${[`${n.idField}: ${n.pascal}Id`, ...entries(c.fields, schemaOf)].join(', ')} }),`,
      '});',
    ].join('\n');
  },
  'event-types': (n, c) => `${commandNames(n, c).event},`,
  decide: (n, c) => {
    const k = commandNames(n, c);
    return [
      `case '${k.command}': {`,
      '  requireActive(state);',
      '  const { type: _, ...data } = command;',
      `  return [{ type: '${k.event}', data }];`,
      '}',
    ].join('\n');
  },
  evolve: (n, c) =>
    [
      `case '${commandNames(n, c).event}':`,
      '  // Nothing a rule reads yet: keep here what one will need of it.',
      '  return state;',
    ].join('\n'),
  specs: (n, c) => {
    const k = commandNames(n, c);
    const values = entries(c.fields, (field) => sampleOf(field, 1));
    const command = literal([`type: '${k.command}'`, n.idField, ...values]);
    const event = `{ type: '${k.event}', data: ${literal([n.idField, ...values])} }`;
    return [
      `describe('${k.command}', () => {`,
      `  it('records ${k.event}', () => given([created]).when(${command}).then([${event}]));`,
      '',
      `  it('rejects it for an archived ${n.words}', () =>`,
      `    given([created, archived]).when(${command}).thenRejects('${n.snake}_archived'));`,
      '',
      `  it('rejects it for a ${n.words} that does not exist', () =>`,
      `    given([]).when(${command}).thenRejects('${n.snake}_not_found'));`,
      '});',
    ].join('\n');
  },
  imports: (n, c) => `${commandNames(n, c).command},`,
  bodies: (n, c) => {
    const k = commandNames(n, c);
    return c.fields.length === 0
      ? ''
      : `export const ${k.body} = z.strictObject(${k.command}.omit({ type: true, ${n.idField}: true }).shape);`;
  },
  routes: (n, c) => {
    const k = commandNames(n, c);
    const withFields = c.fields.length > 0;
    return [
      'app.post(',
      `  '/${n.kebabPlural}/:id/${c.name}',`,
      '  {',
      '    schema: {',
      '      tags,',
      `      summary: '${summaryOf(c.name)} ${article(n.words)} ${n.words}',`,
      '      headers: CommandHeaders,',
      `      params: ${n.pascal}Params,`,
      `      body: ${withFields ? k.body : 'z.strictObject({}).nullish()'},`,
      `      response: { 200: ${n.pascal}CommandAccepted, ...errors },`,
      '    },',
      '  },',
      '  async (request, reply) =>',
      '    run(request, reply, {',
      `      aggregate: ${n.camel}Aggregate,`,
      '      id: request.params.id,',
      `      command: ${k.command}.parse({`,
      `        type: '${k.command}',`,
      `        ${n.idField}: request.params.id,`,
      ...(withFields ? ['        ...request.body,'] : []),
      '      }),',
      '      status: 200,',
      '      body: accepted(request.params.id),',
      '    }),',
      ');',
    ].join('\n');
  },
  'route-tests': (n, c) => {
    const k = commandNames(n, c);
    const url = `'/${n.kebabPlural}/x-${c.name}/${c.name}'`;
    const body =
      c.fields.length === 0 ? '' : `, ${literal(entries(c.fields, (field) => sampleOf(field, 1)))}`;
    return [
      `it('${c.name}: appends ${k.event}', async () => {`,
      `  await create('x-${c.name}');`,
      ...(c.fields.length === 0 ? [] : [`  expectProblem(await post(${url}, {}), 400, 'invalid-request');`]),
      `  const response = await post(${url}${body});`,
      '  expect(response.statusCode).toBe(200);',
      `  expect(response.json()).toMatchObject({ ${n.idField}: 'x-${c.name}', revision: 1 });`,
      `  expect(await eventTypes('x-${c.name}')).toEqual(['${n.pascal}Created', '${k.event}']);`,
      '});',
    ].join('\n');
  },
  project: (n, c) =>
    [
      `case '${commandNames(n, c).event}':`,
      '  // The revision and the time move; set here what the read model shows of it (and add it to the view).',
      '  return write({});',
    ].join('\n'),
  'projection-tests': (n, c) => {
    const k = commandNames(n, c);
    const data = literal([`${n.idField}: 'a'`, ...entries(c.fields, (field) => sampleOf(field, 1))]);
    return [
      `it('${k.event}: the revision it reflects', () =>`,
      `  spec`,
      `    .given(recordedEvents([created, { streamId: stream, type: '${k.event}', data: ${data} }]))`,
      `    .then({ ${n.snakePlural}: [document({ revision: 1, updatedAt: testTime(2) })] }));`,
    ].join('\n');
  },
};

/** The markers whose next object literal is replaced, and what replaces its lines. */
const objectCode: Record<string, (fields: readonly Field[]) => string[]> = {
  fields: (fields) => entries(fields, schemaOf).map((entry) => `${entry},`),
  samples: (fields) => {
    const [first] = fields;
    return [
      `created: ${literal(entries(fields, (field) => sampleOf(field, 1)))},`,
      `edit: ${literal(first ? [`${first.name}: ${sampleOf(first, 2)}`] : [])},`,
      `invalid: ${literal(first ? [`${first.name}: ${invalidOf(first)}`] : [])},`,
    ];
  },
};

/** The markers whose code for each command is a block of its own, after a blank line. */
const SPACED = new Set(['specs', 'routes', 'route-tests', 'projection-tests']);

/** Every marker the template may carry. */
export const MARKERS = ['note', ...Object.keys(objectCode), ...Object.keys(commandCode)];

const indent = (code: string, by: string) =>
  code
    .split('\n')
    .map((line) => (line === '' ? line : `${by}${line}`))
    .join('\n');

/**
 * `source` (a renamed template file) with the shape's fields and commands, and without its marker
 * lines. Throws TemplateMarkerError for a marker it does not know or cannot follow: the template
 * is broken then, not the input.
 */
export const applyShape = (
  path: string,
  source: string,
  n: AggregateNames,
  shape: AggregateShape,
): string => {
  const lines = source.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const marker = MARKER.exec(line);
    if (!marker) {
      out.push(line);
      continue;
    }
    const [, by = '', name = ''] = marker;
    const perCommand = commandCode[name];
    const object = objectCode[name];
    if (name === 'note') continue;
    if (perCommand) {
      for (const command of shape.commands) {
        const code = perCommand(n, command);
        if (code === '') continue;
        // Blocks (a test, a route) stand apart from what comes before them, as the template's do.
        if (SPACED.has(name) && (out.at(-1) ?? '').trim() !== '') out.push('');
        out.push(indent(code, by));
      }
    } else if (object) {
      if (shape.fields === undefined) continue;
      // Keep the lines up to the object's opening, then its closing line; replace what is between.
      let open = i + 1;
      while (open < lines.length && !/[=(]\s*\{$/.test(lines[open] ?? '')) open++;
      let close = open + 1;
      while (close < lines.length && !/^\s*\}/.test(lines[close] ?? '')) close++;
      if (close >= lines.length)
        throw new TemplateMarkerError(`${path}: no object literal after // scaffold:${name}`);
      out.push(...lines.slice(i + 1, open + 1));
      const inner = /^\s*/.exec(lines[open + 1] ?? '')?.[0] ?? '  ';
      out.push(...object(shape.fields).map((entry) => `${inner}${entry}`));
      i = close - 1;
    } else {
      throw new TemplateMarkerError(
        `${path}: unknown marker // scaffold:${name} (known: ${MARKERS.join(', ')})`,
      );
    }
  }
  return out.join('\n');
};
