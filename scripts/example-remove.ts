/**
 * npm run example:remove — deletes the example domain (bank accounts and transfers between them)
 * and leaves a project that typechecks, lints and passes its tests, ready for your own modules
 * (npm run new-aggregate). It removes:
 * - the example's modules: their folder in every layer, their module values (app/modules/), their
 *   entries in app/modules.ts; their settings go with them (a module's settings live in its folder);
 * - the example's scripts (the benchmarks, which drive accounts) and their npm scripts;
 * - the example's parts of the documentation and configuration files, between marker comments:
 *   an HTML comment `example:start` … `example:end` in Markdown (also within a line), a line
 *   comment `# example:start` … `# example:end` (or `//`) elsewhere. What reads in place of a
 *   removed part is kept in an `example:replace` comment next to it, and uncommented.
 *
 * It keeps the engines, their fixtures and the template module (sticky notes) that
 * npm run new-aggregate copies. It checks first and changes nothing when: the example is already
 * gone; a file that stays imports one that goes (code of yours built on the example); a marker is
 * unbalanced. Then it prints what it removed. `--dry-run` prints the same and changes nothing.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** What the example is, as paths from the repository's root. */
export const example = {
  /** Module values in app/modules/, listed by app/modules.ts. */
  moduleFiles: ['app/modules/accounts.ts', 'app/modules/transfers.ts'],
  folders: [
    'domain/accounts',
    'domain/transfers',
    'commands/accounts',
    'commands/transfers',
    'projections/accounts',
    'projections/transfers',
    'read-api/accounts',
    'read-api/transfers',
  ],
  files: [
    'scripts/bench-hot.ts',
    'scripts/bench-read.ts',
    'scripts/bench-read-catch-up.ts',
    'scripts/bench-read-fixture.ts',
    'scripts/bench-read-server.ts',
    'scripts/bench-read-store.ts',
    'scripts/bench-read-store-scan.ts',
    'scripts/bench-write.ts',
    'scripts/bench-write-http.ts',
    'scripts/bench-write-http-bare.ts',
    'scripts/bench-memory.ts',
    'scripts/bench.ts',
    'scripts/bench-restart.ts',
    'scripts/bench-snapshots.ts',
    'scripts/seed.ts',
    'scripts/seed.test.ts',
  ],
  npmScripts: [
    'bench:write',
    'bench:write-http',
    'bench:memory',
    'bench:read',
    'bench:hot',
    'bench:read-store',
    'bench:restart',
    'bench:snapshots',
    'seed',
  ],
} as const;

const MODULE_LIST = 'app/modules.ts';
const SOURCE_FOLDERS = ['domain', 'commands', 'projections', 'read-api', 'infra', 'app', 'scripts'];
/** Where marker comments are looked for: documentation, configuration, CI. */
const isMarkedKind = (path: string) =>
  /\.(md|ya?ml|sh)$/.test(path) || ['.env.example', 'Dockerfile', '.dockerignore', '.ci/run'].includes(path);
const SKIPPED = new Set(['node_modules', 'dist', 'data', '.git', 'coverage']);

export type Removal = {
  removed: string[];
  alreadyGone: string[];
  moduleEntries: string[];
  npmScripts: string[];
  /** Per file, how many marked parts were removed and how many replacements put in. */
  marked: { file: string; removed: number; replaced: number }[];
};

export class RefusedError extends Error {
  override readonly name = 'RefusedError';
}

// ── marked parts ────────────────────────────────────────────────────────────
const HTML_START = '<!-- example:start -->';
const HTML_END = '<!-- example:end -->';
const HTML_REPLACE = /<!-- example:replace(?:\n| )([\s\S]*?)\s*-->/g;
const LINE_START = /^\s*(?:#|\/\/) example:start\b.*$/;
const LINE_END = /^\s*(?:#|\/\/) example:end\b.*$/;
const LINE_REPLACE = /^(\s*)(?:#|\/\/) example:replace (.*)$/;

/** `text` without its marked parts, the replacements uncommented; throws on an unbalanced marker. */
export const removeMarked = (
  text: string,
  file: string,
): { text: string; removed: number; replaced: number } => {
  let removed = 0;
  let replaced = 0;
  // HTML comments (Markdown): a part may span lines or sit within one.
  let out = '';
  for (let at = 0; ; ) {
    const start = text.indexOf(HTML_START, at);
    const nextEnd = text.indexOf(HTML_END, at);
    if (nextEnd !== -1 && (start === -1 || nextEnd < start))
      throw new RefusedError(`${file}: "${HTML_END}" without its start, at offset ${nextEnd}`);
    if (start === -1) {
      out += text.slice(at);
      break;
    }
    const end = text.indexOf(HTML_END, start + HTML_START.length);
    const nested = text.indexOf(HTML_START, start + HTML_START.length);
    if (end === -1 || (nested !== -1 && nested < end))
      throw new RefusedError(`${file}: "${HTML_START}" at offset ${start} has no end of its own`);
    out += text.slice(at, start);
    removed++;
    at = end + HTML_END.length;
  }
  out = out.replace(HTML_REPLACE, (_all, replacement: string) => {
    replaced++;
    return replacement;
  });
  // Line comments (YAML, shell, .env): whole lines.
  const lines: string[] = [];
  let open: number | undefined;
  out.split('\n').forEach((line, index) => {
    if (LINE_START.test(line)) {
      if (open !== undefined) throw new RefusedError(`${file}:${index + 1}: example:start inside another`);
      open = index;
      removed++;
      return;
    }
    if (LINE_END.test(line)) {
      if (open === undefined) throw new RefusedError(`${file}:${index + 1}: example:end without its start`);
      open = undefined;
      return;
    }
    if (open !== undefined) return;
    const replacement = LINE_REPLACE.exec(line);
    if (replacement) {
      replaced++;
      lines.push(`${replacement[1]}${replacement[2]}`);
    } else lines.push(line);
  });
  if (open !== undefined) throw new RefusedError(`${file}:${open + 1}: example:start without its end`);
  // A removed block leaves its blank lines behind: never more than one in a row.
  const tidied = lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/\n\n$/, '\n');
  return { text: tidied, removed, replaced };
};

// ── the module list ─────────────────────────────────────────────────────────
/**
 * app/modules.ts without the imports of `moduleFiles` and without their entries in the list: the
 * file is parsed, so it does not matter how the list is laid out or what else it holds.
 */
export const withoutModules = (
  source: string,
  moduleFiles: readonly string[],
): { source: string; entries: string[] } => {
  const file = ts.createSourceFile(MODULE_LIST, source, ts.ScriptTarget.Latest, true);
  const goes = new Set(moduleFiles.map((path) => `./${relative('app', path).replace(/\.ts$/, '.js')}`));
  const edits: { start: number; end: number; text: string }[] = [];
  const names = new Set<string>();
  for (const statement of file.statements)
    if (
      ts.isImportDeclaration(statement) &&
      ts.isStringLiteral(statement.moduleSpecifier) &&
      goes.has(statement.moduleSpecifier.text)
    ) {
      const bindings = statement.importClause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings))
        for (const element of bindings.elements) names.add(element.name.text);
      edits.push({ start: statement.getFullStart(), end: statement.getEnd(), text: '' });
    }
  const entries: string[] = [];
  const isGone = (element: ts.Expression) => ts.isIdentifier(element) && names.has(element.text);
  const visit = (node: ts.Node) => {
    if (ts.isArrayLiteralExpression(node) && node.elements.some(isGone)) {
      entries.push(...node.elements.filter(isGone).map((element) => element.getText()));
      const kept = node.elements.filter((element) => !isGone(element)).map((element) => element.getText());
      edits.push({ start: node.getStart(), end: node.getEnd(), text: `[${kept.join(', ')}]` });
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  let out = source;
  for (const edit of [...edits].sort((a, b) => b.start - a.start))
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return { source: out.replace(/^\n+/, ''), entries };
};

// ── checks and the removal ──────────────────────────────────────────────────
const walk = (root: string, dir = ''): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return SKIPPED.has(entry.name) ? [] : walk(root, path);
    return entry.isFile() ? [path] : [];
  });

const isGoing = (path: string) =>
  example.folders.some((folder) => path === folder || path.startsWith(`${folder}/`)) ||
  (example.moduleFiles as readonly string[]).includes(path) ||
  (example.files as readonly string[]).includes(path);

/** Files that stay but import a file that goes, as "file imports target". */
const dependents = (root: string, files: readonly string[]): string[] =>
  files
    .filter((path) => path.endsWith('.ts') && !isGoing(path) && path !== MODULE_LIST)
    .filter((path) => SOURCE_FOLDERS.includes(path.split('/')[0] ?? ''))
    .flatMap((path) =>
      ts
        .preProcessFile(readFileSync(join(root, path), 'utf8'), true, true)
        .importedFiles.filter(({ fileName }) => fileName.startsWith('.'))
        .map(({ fileName }) => relative(root, resolve(root, dirname(path), fileName)).replace(/\.js$/, '.ts'))
        .filter(isGoing)
        .map((target) => `${path} imports ${target}`),
    );

export const removeExample = (root: string, { dryRun = false } = {}): Removal => {
  const targets = [...example.folders, ...example.moduleFiles, ...example.files];
  const present = targets.filter((path) => existsSync(join(root, path)));
  if (present.filter((path) => !(example.files as readonly string[]).includes(path)).length === 0)
    throw new RefusedError(
      'the example is already removed: no accounts or transfers module is left (nothing changed)',
    );

  const files = walk(root);
  const using = dependents(root, files);
  if (using.length > 0)
    throw new RefusedError(
      `these files stay but use the example; move what they need out of it, or remove them, then run this again (nothing changed):\n  ${using.join('\n  ')}`,
    );

  // Everything is worked out before anything is written: an unbalanced marker changes nothing.
  const marked = files
    .filter((path) => isMarkedKind(path) && !isGoing(path))
    .map((path) => ({ path, ...removeMarked(readFileSync(join(root, path), 'utf8'), path) }))
    .filter(({ removed, replaced }) => removed + replaced > 0);
  const list = withoutModules(readFileSync(join(root, MODULE_LIST), 'utf8'), example.moduleFiles);
  const packageFile = join(root, 'package.json');
  const pkg = JSON.parse(readFileSync(packageFile, 'utf8')) as { scripts?: Record<string, string> };
  const npmScripts = example.npmScripts.filter((name) => pkg.scripts?.[name] !== undefined);

  if (!dryRun) {
    for (const path of present) rmSync(join(root, path), { recursive: true, force: true });
    writeFileSync(join(root, MODULE_LIST), list.source);
    for (const name of npmScripts) delete pkg.scripts?.[name];
    writeFileSync(packageFile, `${JSON.stringify(pkg, null, 2)}\n`);
    for (const { path, text } of marked) writeFileSync(join(root, path), text);
  }
  return {
    removed: present,
    alreadyGone: targets.filter((path) => !present.includes(path)),
    moduleEntries: list.entries,
    npmScripts,
    marked: marked.map(({ path, removed, replaced }) => ({ file: path, removed, replaced })),
  };
};

const describe = (removal: Removal, dryRun: boolean) => {
  const verb = dryRun ? 'would remove' : 'removed';
  const lines = [
    `${verb}:`,
    ...removal.removed.map(
      (path) => `  ${path}${(example.folders as readonly string[]).includes(path) ? '/' : ''}`,
    ),
    `  from ${MODULE_LIST}: ${removal.moduleEntries.join(', ') || '(no entries)'}`,
    `  npm scripts: ${removal.npmScripts.join(', ') || '(none)'}`,
    ...removal.marked.map(
      ({ file, removed, replaced }) =>
        `  ${file}: ${removed} marked part${removed === 1 ? '' : 's'}${replaced ? `, ${replaced} replacement${replaced === 1 ? '' : 's'} put in` : ''}`,
    ),
  ];
  if (removal.alreadyGone.length > 0) lines.push(`already gone: ${removal.alreadyGone.join(', ')}`);
  if (!dryRun)
    lines.push(
      '',
      'next: npm run typecheck && npm run lint && npm test; then add your first module:',
      '  npm run new-aggregate -- <name> (see docs/adding-an-aggregate.md)',
    );
  return lines.join('\n');
};

// Run as a script (npm run example:remove), not when a test imports it.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const dryRun = args.includes('--dry-run');
  if (args.some((arg) => arg !== '--dry-run')) {
    console.error('usage: npm run example:remove [-- --dry-run]');
    process.exit(2);
  }
  try {
    console.log(describe(removeExample(resolve(import.meta.dirname, '..'), { dryRun }), dryRun));
  } catch (error) {
    if (!(error instanceof RefusedError)) throw error;
    console.error(`example:remove: ${error.message}`);
    process.exit(1);
  }
}
