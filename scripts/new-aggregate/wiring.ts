import ts from 'typescript';
import type { AggregateNames } from './names.js';

/**
 * Registers a new aggregate's module in the one list of modules (app/modules.ts): one import and
 * one entry. Everything else (the command API, the read API, the projectors, the scripts, the docs)
 * loops over that list. The list is found by parsing, not by an anchor comment, so the file carries
 * no markers; if it changes shape, the scaffolder says what it expected and writes nothing. Text is
 * inserted at the positions the parser reports, so the rest of the file stays as written; the
 * scaffolder then lets biome sort the new import and wrap long lines.
 */
export class WiringError extends Error {
  override readonly name = 'WiringError';
}

export type Wiring = {
  /** Repository-relative path of the file. */
  file: string;
  /** What the insertion does, for the scaffolder's report. */
  summary: string;
  wire(source: string, n: AggregateNames): string;
};

type Insertion = { at: number; text: string };

const apply = (source: string, insertions: readonly Insertion[]) =>
  [...insertions]
    .sort((a, b) => b.at - a.at)
    .reduce((text, { at, text: add }) => text.slice(0, at) + add + text.slice(at), source);

/** The new import goes after the last one; biome's organizeImports puts it in order. */
const importInsertion = (file: string, sourceFile: ts.SourceFile, name: string, from: string): Insertion => {
  const imports = sourceFile.statements.filter(ts.isImportDeclaration);
  for (const declaration of imports)
    if (ts.isStringLiteral(declaration.moduleSpecifier) && declaration.moduleSpecifier.text === from)
      throw new WiringError(`${file}: already imports ${from}; is the aggregate wired already?`);
  const last = imports.at(-1);
  return {
    at: last ? last.end : 0,
    text: `${last ? '\n' : ''}import { ${name} } from '${from}';${last ? '' : '\n'}`,
  };
};

const unwrap = (expression: ts.Expression): ts.Expression =>
  ts.isParenthesizedExpression(expression) ||
  ts.isAsExpression(expression) ||
  ts.isSatisfiesExpression(expression)
    ? unwrap(expression.expression)
    : expression;

/** The array literal of the top-level `const <name> = [ … ]` (through `as const` and `satisfies`). */
const findList = (file: string, sourceFile: ts.SourceFile, name: string): ts.ArrayLiteralExpression => {
  for (const statement of sourceFile.statements)
    if (ts.isVariableStatement(statement))
      for (const declaration of statement.declarationList.declarations)
        if (ts.isIdentifier(declaration.name) && declaration.name.text === name && declaration.initializer) {
          const list = unwrap(declaration.initializer);
          if (ts.isArrayLiteralExpression(list)) return list;
          throw new WiringError(`${file}: expected \`${name}\` to be an array literal`);
        }
  throw new WiringError(`${file}: expected a top-level \`const ${name} = [ … ]\``);
};

/** app/modules.ts: import the module value and append it to `modules`. */
export const modulesWiring: Wiring = {
  file: 'app/modules.ts',
  summary: 'adds the module to the list of modules (one import, one entry)',
  wire(source, n) {
    const sourceFile = ts.createSourceFile(this.file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const list = findList(this.file, sourceFile, 'modules');
    const module = n.camelPlural;
    if (list.elements.some((element) => ts.isIdentifier(element) && element.text === module))
      throw new WiringError(`${this.file}: \`modules\` already lists ${module}`);
    const last = list.elements.at(-1);
    return apply(source, [
      importInsertion(this.file, sourceFile, module, `./modules/${n.kebabPlural}.js`),
      last ? { at: last.end, text: `, ${module}` } : { at: list.elements.pos, text: module },
    ]);
  },
};

export const wirings: readonly Wiring[] = [modulesWiring];
