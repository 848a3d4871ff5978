import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { aggregateNames } from './names.js';
import { appProjectionsWiring, commandApiWiring, readApiWiring, WiringError, wirings } from './wiring.js';

const root = resolve(import.meta.dirname, '..', '..');
const names = aggregateNames('gift-card');

const syntaxErrors = (source: string) =>
  (ts.transpileModule(source, { reportDiagnostics: true }).diagnostics ?? []).map((d) =>
    ts.flattenDiagnosticMessageText(d.messageText, '\n'),
  );

/** The source with every run of whitespace made one space: compares code, not layout. */
const squash = (source: string) => source.replace(/\s+/g, ' ');

describe('wiring the repository’s own files', () => {
  it.each(wirings.map((wiring) => [wiring.file, wiring] as const))(
    '%s: adds the import and the call, and still parses',
    (file, wiring) => {
      const before = readFileSync(join(root, file), 'utf8');
      const after = wiring.wire(before, names);
      expect(syntaxErrors(after)).toEqual([]);
      expect(after.length).toBeGreaterThan(before.length);
      // Only insertions: every line of the file is still there, in order.
      const kept = before.split('\n').filter((line) => !after.includes(line));
      expect(kept).toEqual([]);
    },
  );

  it('commands/command-api.ts: registers the routes in a plugin with the shared runner, before the return', () => {
    const after = commandApiWiring.wire(readFileSync(join(root, commandApiWiring.file), 'utf8'), names);
    expect(after).toContain("import { giftCardCommandRoutes } from './gift-cards/gift-card-routes.js';");
    expect(after).toMatch(
      /app\.register\(async \(scope: HttpApp\) => giftCardCommandRoutes\(scope, run\)\);\n\s*return /,
    );
  });

  it('projections/app-projections.ts: appends the projection, with the cache', () => {
    const after = appProjectionsWiring.wire(
      readFileSync(join(root, appProjectionsWiring.file), 'utf8'),
      names,
    );
    expect(squash(after)).toMatch(/, giftCardsProjection\(\{ cache \}\),? \];/);
  });

  it('read-api/read-api.ts: adds the query routes at the end of the query scope', () => {
    const after = readApiWiring.wire(readFileSync(join(root, readApiWiring.file), 'utf8'), names);
    expect(squash(after)).toContain(
      'transferQueryRoutes(scope, context); giftCardQueryRoutes(scope, context); });',
    );
  });

  it.each(wirings.map((wiring) => [wiring.file, wiring] as const))(
    '%s: refuses to wire the same aggregate twice',
    (file, wiring) => {
      const once = wiring.wire(readFileSync(join(root, file), 'utf8'), names);
      expect(() => wiring.wire(once, names)).toThrow(/already imports .*gift-card/);
    },
  );
});

describe('wiring files of another shape', () => {
  it('appends to an empty list, and to a list returned from a block', () => {
    const empty = 'export const appProjections = ({ cache }: { cache?: unknown } = {}) => [];\n';
    expect(appProjectionsWiring.wire(empty, names)).toContain('=> [giftCardsProjection({ cache })];');
    const block =
      "import x from 'x';\nexport function appProjections({ cache }: O) {\n  return [a()] as P[];\n}\n";
    const wired = appProjectionsWiring.wire(block, names);
    expect(wired).toContain('return [a(), giftCardsProjection({ cache })] as P[];');
    expect(wired).toContain("import x from 'x';\nimport { giftCardsProjection }");
  });

  it.each([
    [
      'no registerCommandApi',
      commandApiWiring,
      'export const other = () => {};',
      /expected a top-level function `registerCommandApi`/,
    ],
    [
      'no shared runner',
      commandApiWiring,
      'export const registerCommandApi = (app: A) => {\n  const handle = 1;\n  return { handle };\n};',
      /uses `run`, which `registerCommandApi` no longer declares/,
    ],
    [
      'no cache option',
      appProjectionsWiring,
      'export const appProjections = () => [a()];',
      /destructure `cache`/,
    ],
    [
      'a list built elsewhere',
      appProjectionsWiring,
      'export const appProjections = ({ cache }: O) => all(cache);',
      /return an array literal/,
    ],
    [
      'no query scope',
      readApiWiring,
      'export const registerReadApi = (app: A, deps: D) => {\n  const context = 1;\n  routes(app);\n};',
      /expected one `….register\(async \(scope\) => \{ … \}\)`.*found 0/,
    ],
    [
      'no query context',
      readApiWiring,
      'export const registerReadApi = (app: A, deps: D) => {\n  const stats = 1;\n};',
      /uses `context`, which `registerReadApi` no longer declares/,
    ],
  ])('says what it expected when there is %s', (_what, wiring, source, message) => {
    expect(() => wiring.wire(source, names)).toThrow(WiringError);
    expect(() => wiring.wire(source, names)).toThrow(message);
  });

  it('picks the scope that registers query routes when there are several', () => {
    const source = [
      'export const registerReadApi = (app: A, deps: D) => {',
      '  const context = 1;',
      '  app.register(async (admin: A) => {',
      '    adminRoutes(admin);',
      '  });',
      '  app.register(async (queries: A) => {',
      '    accountQueryRoutes(queries, {});',
      '  });',
      '};',
    ].join('\n');
    const wired = readApiWiring.wire(source, names);
    expect(wired).toContain(
      '    accountQueryRoutes(queries, {});\n    giftCardQueryRoutes(queries, context);',
    );
  });
});
