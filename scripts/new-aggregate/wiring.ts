import ts from 'typescript';
import type { AggregateNames } from './names.js';

/**
 * Wires a new aggregate into the three files that list every aggregate. The spot is found by
 * parsing, not by anchor comments: each rule below names the code it looks for, so it keeps
 * working while those files grow, and says exactly what it expected when they change shape.
 * Text is inserted at the positions the parser reports, so the rest of the file stays as written;
 * the scaffolder then lets biome sort the new import and wrap long lines.
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

const parse = (file: string, source: string) =>
  ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);

/** The function `const <name> = (...) => ...` or `function <name>(...)` declared at the top level. */
const findFunction = (file: string, sourceFile: ts.SourceFile, name: string): ts.FunctionLikeDeclaration => {
  for (const statement of sourceFile.statements) {
    if (ts.isFunctionDeclaration(statement) && statement.name?.text === name) return statement;
    if (ts.isVariableStatement(statement))
      for (const declaration of statement.declarationList.declarations) {
        const init = declaration.initializer;
        if (
          ts.isIdentifier(declaration.name) &&
          declaration.name.text === name &&
          init &&
          (ts.isArrowFunction(init) || ts.isFunctionExpression(init))
        )
          return init;
      }
  }
  throw new WiringError(`${file}: expected a top-level function \`${name}\``);
};

const blockBody = (file: string, fn: ts.FunctionLikeDeclaration, name: string): ts.Block => {
  if (fn.body && ts.isBlock(fn.body)) return fn.body;
  throw new WiringError(`${file}: expected \`${name}\` to have a block body`);
};

const parameterName = (file: string, fn: ts.FunctionLikeDeclaration, index: number, name: string) => {
  const parameter = fn.parameters[index];
  if (parameter && ts.isIdentifier(parameter.name)) return parameter.name.text;
  throw new WiringError(`${file}: expected parameter ${index + 1} of \`${name}\` to be a plain name`);
};

/** Names declared by `const`/`let` statements directly in the block. */
const declaredIn = (block: ts.Block): Set<string> =>
  new Set(
    block.statements
      .filter(ts.isVariableStatement)
      .flatMap((statement) => statement.declarationList.declarations)
      .flatMap((declaration) => (ts.isIdentifier(declaration.name) ? [declaration.name.text] : [])),
  );

const requireDeclared = (file: string, block: ts.Block, where: string, names: readonly string[]) => {
  const declared = declaredIn(block);
  const missing = names.filter((name) => !declared.has(name));
  if (missing.length > 0)
    throw new WiringError(
      `${file}: the generated wiring uses ${missing.map((m) => `\`${m}\``).join(', ')}, which ${where} no longer declares`,
    );
};

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

/** The indentation of the line `node` starts on. */
const indentOf = (sourceFile: ts.SourceFile, node: ts.Node) => {
  const start = node.getStart(sourceFile);
  const lineStart = sourceFile.text.lastIndexOf('\n', start - 1) + 1;
  return sourceFile.text.slice(lineStart, start);
};

/** Inserts `lines` as the last statements of `block`, or before its final `return`. */
const statementsInsertion = (
  sourceFile: ts.SourceFile,
  block: ts.Block,
  lines: readonly string[],
  { beforeReturn }: { beforeReturn: boolean },
): Insertion => {
  const last = block.statements.at(-1);
  if (!last) throw new WiringError(`${sourceFile.fileName}: expected statements in the block to wire into`);
  const indent = indentOf(sourceFile, last);
  const text = lines.map((line) => `${indent}${line}\n`).join('');
  if (beforeReturn && ts.isReturnStatement(last)) {
    const lineStart = sourceFile.text.lastIndexOf('\n', last.getStart(sourceFile) - 1) + 1;
    return { at: lineStart, text };
  }
  return { at: last.end, text: `\n${text.slice(0, -1)}` };
};

/** `<receiver>.register(<callback>)` */
const registerCallback = (node: ts.Node): ts.ArrowFunction | ts.FunctionExpression | undefined => {
  if (!ts.isExpressionStatement(node) || !ts.isCallExpression(node.expression)) return undefined;
  const call = node.expression;
  if (!ts.isPropertyAccessExpression(call.expression) || call.expression.name.text !== 'register')
    return undefined;
  const [callback] = call.arguments;
  return callback && (ts.isArrowFunction(callback) || ts.isFunctionExpression(callback))
    ? callback
    : undefined;
};

/** Whether a call to a plain function whose name passes `test` occurs anywhere under `node`. */
const containsCall = (node: ts.Node, test: (callee: string) => boolean): boolean =>
  (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && test(node.expression.text)) ||
  (ts.forEachChild(node, (child) => containsCall(child, test) || undefined) ?? false);

/**
 * commands/command-api.ts: in `registerCommandApi`, before its final `return`, register the routes
 * in a plugin of their own, with the shared command runner `run`.
 */
export const commandApiWiring: Wiring = {
  file: 'commands/command-api.ts',
  summary: 'registers the command routes with the shared pipeline (registerCommandApi)',
  wire(source, n) {
    const sourceFile = parse(this.file, source);
    const fn = findFunction(this.file, sourceFile, 'registerCommandApi');
    const body = blockBody(this.file, fn, 'registerCommandApi');
    const app = parameterName(this.file, fn, 0, 'registerCommandApi');
    requireDeclared(this.file, body, '`registerCommandApi`', ['run']);
    const routes = `${n.camel}CommandRoutes`;
    return apply(source, [
      importInsertion(this.file, sourceFile, routes, `./${n.kebabPlural}/${n.kebab}-routes.js`),
      statementsInsertion(
        sourceFile,
        body,
        [`${app}.register(async (scope: HttpApp) => ${routes}(scope, run));`],
        {
          beforeReturn: true,
        },
      ),
    ]);
  },
};

/** projections/app-projections.ts: append the projection to the array `appProjections` returns. */
export const appProjectionsWiring: Wiring = {
  file: 'projections/app-projections.ts',
  summary: 'adds the projection to appProjections (so startProjections runs it and the scripts find it)',
  wire(source, n) {
    const sourceFile = parse(this.file, source);
    const fn = findFunction(this.file, sourceFile, 'appProjections');
    const [options] = fn.parameters;
    const takesCache =
      options !== undefined &&
      ts.isObjectBindingPattern(options.name) &&
      options.name.elements.some((element) => ts.isIdentifier(element.name) && element.name.text === 'cache');
    if (!takesCache)
      throw new WiringError(
        `${this.file}: expected \`appProjections\` to destructure \`cache\` from its options`,
      );

    const unwrap = (expression: ts.Expression): ts.Expression =>
      ts.isParenthesizedExpression(expression) ||
      ts.isAsExpression(expression) ||
      ts.isSatisfiesExpression(expression)
        ? unwrap(expression.expression)
        : expression;
    const returned =
      fn.body && ts.isBlock(fn.body)
        ? fn.body.statements.filter(ts.isReturnStatement).at(-1)?.expression
        : (fn.body as ts.Expression | undefined);
    const list = returned && unwrap(returned);
    if (!list || !ts.isArrayLiteralExpression(list))
      throw new WiringError(`${this.file}: expected \`appProjections\` to return an array literal`);

    const projection = `${n.camelPlural}Projection({ cache })`;
    const last = list.elements.at(-1);
    const element = last
      ? { at: last.end, text: `, ${projection}` }
      : { at: list.elements.pos, text: projection };
    return apply(source, [
      importInsertion(
        this.file,
        sourceFile,
        `${n.camelPlural}Projection`,
        `./${n.kebabPlural}/${n.kebabPlural}-projection.js`,
      ),
      element,
    ]);
  },
};

/**
 * read-api/read-api.ts: in `registerReadApi`, at the end of the plugin scope that registers the
 * query routes (the `….register(async (scope) => { … })` whose block calls a `…QueryRoutes`), so
 * the routes share its ETag support, with the query context every route reads with.
 */
export const readApiWiring: Wiring = {
  file: 'read-api/read-api.ts',
  summary:
    'registers the query route in the query scope, with the query context: cache, checked views, x-min-position gate (registerReadApi)',
  wire(source, n) {
    const sourceFile = parse(this.file, source);
    const fn = findFunction(this.file, sourceFile, 'registerReadApi');
    const body = blockBody(this.file, fn, 'registerReadApi');
    requireDeclared(this.file, body, '`registerReadApi`', ['context']);

    const scopes = body.statements.flatMap((statement) => {
      const callback = registerCallback(statement);
      return callback?.body && ts.isBlock(callback.body) ? [callback] : [];
    });
    const queryScopes = scopes.filter((scope) =>
      containsCall(scope, (callee) => callee.endsWith('QueryRoutes')),
    );
    const candidates = queryScopes.length > 0 ? queryScopes : scopes;
    const [scope, ...others] = candidates;
    if (!scope || others.length > 0)
      throw new WiringError(
        `${this.file}: expected one \`….register(async (scope) => { … })\` in \`registerReadApi\` that registers the query routes, found ${candidates.length}`,
      );
    const scopeName = parameterName(this.file, scope, 0, 'the query scope');
    const routes = `${n.camel}QueryRoutes`;
    return apply(source, [
      importInsertion(this.file, sourceFile, routes, `./${n.kebabPlural}/${n.kebab}-query-routes.js`),
      statementsInsertion(sourceFile, scope.body as ts.Block, [`${routes}(${scopeName}, context);`], {
        beforeReturn: false,
      }),
    ]);
  },
};

export const wirings: readonly Wiring[] = [commandApiWiring, appProjectionsWiring, readApiWiring];
