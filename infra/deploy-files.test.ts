import { existsSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigSchema, loadConfig, ROLES } from './config.js';
import { composeEnvironment } from './testing/compose-environment.js';

/**
 * The deployment files, checked as far as a machine without a Docker engine can: docker-compose.yml
 * and the CI workflow parsed as YAML and held to their structure, the Dockerfile read instruction
 * by instruction, every environment variable held to the config schema, every JavaScript snippet
 * (health checks) parsed.
 */
console.info(
  'deploy files: not verified here (no Docker engine) — that the images pull and build, the ' +
    'containers start, the replica set initiates, the health checks pass at run time, and the ' +
    "workflow runs on GitHub's runners; the workflow's docker job and `docker compose up --wait` do that",
);

const root = resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

type Healthcheck = { test: string[] | string };
type Service = {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: Healthcheck;
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  stop_grace_period?: string;
  profiles?: string[];
  volumes?: string[];
};

const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const appServices = Object.entries(services).filter(([, service]) => service.build !== undefined);
const configKeys = new Set(Object.keys(ConfigSchema.shape));
const envOf = (service: Service) => composeEnvironment(service.environment);

/** The JavaScript in a health check: what `node -e` or `mongosh --eval` would run. */
const scriptOf = (test: string[]) => {
  const flag = test.findIndex((part) => part === '-e' || part === '--eval');
  return flag === -1 ? undefined : test[flag + 1];
};
const parsesAsJavaScript = (source: string) => {
  // new Function compiles without running; a syntax error throws here.
  new Function(source);
  return true;
};
const seconds = (duration: string) => {
  const match = /^(\d+)(ms|s|m)$/.exec(duration);
  if (!match) throw new Error(`not a duration: ${duration}`);
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60 }[match[2] as 'ms' | 's' | 'm'];
};

describe('docker-compose.yml', () => {
  it('gives every service a health check whose command is a list of strings', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck, name).toBeDefined();
      const test = service.healthcheck?.test;
      expect(Array.isArray(test), `${name}: healthcheck.test is a list`).toBe(true);
      for (const part of test as unknown[])
        expect(typeof part, `${name}: ${JSON.stringify(part)}`).toBe('string');
      const script = scriptOf(test as string[]);
      if (script !== undefined) expect(parsesAsJavaScript(script), name).toBe(true);
    }
  });

  it('makes services wait only for services that exist and have a health check to wait for', () => {
    const conditions = ['service_started', 'service_healthy', 'service_completed_successfully'];
    for (const [name, service] of Object.entries(services))
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(Object.keys(services), `${name} depends on ${dependency}`).toContain(dependency);
        expect(conditions).toContain(condition);
        if (condition === 'service_healthy') expect(services[dependency]?.healthcheck).toBeDefined();
      }
    // And the waits end: no service waits, through others, for itself.
    const visiting = new Set<string>();
    const visit = (name: string) => {
      expect(visiting.has(name), `depends_on cycle through ${name}`).toBe(false);
      visiting.add(name);
      for (const dependency of Object.keys(services[name]?.depends_on ?? {})) visit(dependency);
      visiting.delete(name);
    };
    for (const name of Object.keys(services)) visit(name);
  });

  it('builds the app services from the Dockerfile and configures them with the config schema only', () => {
    expect(appServices.map(([name]) => name).sort()).toEqual(['projector', 'read', 'write']);
    for (const [name, service] of appServices) {
      const build = typeof service.build === 'string' ? { context: service.build } : (service.build ?? {});
      expect(resolve(root, build.context ?? '.'), name).toBe(root);
      expect(existsSync(join(root, build.dockerfile ?? 'Dockerfile'))).toBe(true);
      const env = envOf(service);
      for (const key of Object.keys(env)) expect(configKeys, `${name}: ${key}`).toContain(key);
      expect(() => loadConfig(env), name).not.toThrow();
      // The app's own backstop must end it, before Docker's SIGKILL does.
      expect(seconds(service.stop_grace_period ?? '10s')).toBeGreaterThan(
        loadConfig(env).SHUTDOWN_TIMEOUT_MS / 1000,
      );
    }
  });

  it('runs every role, the read API on replicas reading from secondaries', () => {
    const roles = appServices.flatMap(([, service]) => loadConfig(envOf(service)).ROLES);
    expect([...new Set(roles)].sort()).toEqual([...ROLES].sort());
    const read = loadConfig(envOf(services.read as Service));
    expect(read.ROLES).toEqual(['read']);
    expect(read.MONGO_READ_PREFERENCE).toBe('secondaryPreferred');
    expect(services.read?.deploy?.replicas).toBeGreaterThanOrEqual(2);
  });

  it('points the app at servers of this file: EventStoreDB, a three-member replica set initiated by its health check, Redis', () => {
    const config = loadConfig(envOf(services.projector as Service));
    expect(new URL(config.EVENTSTORE_URL as string).hostname).toBe('eventstore');
    expect(new URL(config.REDIS_URL as string).hostname).toBe('redis');
    expect(services.redis?.image).toMatch(/^redis:/);
    expect(services.eventstore?.image).toMatch(/^eventstore\/eventstore:/);

    // mongodb://h1:p,h2:p,h3:p/?replicaSet=rs0: URL cannot parse a host list, so split it by hand.
    const match = /^mongodb:\/\/([^/]+)\/\?(.*)$/.exec(config.MONGO_URL as string);
    expect(match).not.toBeNull();
    const hosts = (match?.[1] ?? '').split(',');
    const replicaSet = new URLSearchParams(match?.[2]).get('replicaSet');
    expect(hosts).toHaveLength(3);
    for (const host of hosts) {
      const [name, port] = host.split(':');
      expect(services[name as string]?.command).toEqual(['mongod', '--replSet', replicaSet, '--bind_ip_all']);
      expect(port).toBe('27017');
    }
    const initiate = scriptOf(services.mongo1?.healthcheck?.test as string[]) ?? '';
    expect(initiate).toContain(`rs.initiate({ _id: '${replicaSet}'`);
    for (const host of hosts) expect(initiate).toContain(`host: '${host}'`);
    // The other members answer before mongo1's check initiates the set with them.
    expect(Object.keys(services.mongo1?.depends_on ?? {}).sort()).toEqual(['mongo2', 'mongo3']);
    for (const [, service] of appServices)
      for (const server of Object.keys(service.depends_on ?? {}))
        expect(service.depends_on?.[server]?.condition).toBe('service_healthy');
  });

  it('starts Prometheus and Grafana only in the monitoring profile, provisioned from ops/', () => {
    const profiled = Object.entries(services).filter(([, service]) => service.profiles !== undefined);
    expect(Object.fromEntries(profiled.map(([name, service]) => [name, service.profiles]))).toEqual({
      prometheus: ['monitoring'],
      grafana: ['monitoring'],
    });
    // Bind mounts: the host side exists in the repository; `name:path` is a named volume.
    const mounts = (service: Service) =>
      Object.fromEntries(
        (service.volumes ?? [])
          .filter((volume) => volume.startsWith('./'))
          .map((volume) => {
            const [host = '', container = ''] = volume.split(':');
            expect(existsSync(join(root, host)), host).toBe(true);
            return [container, host];
          }),
      );
    const prometheus = mounts(services.prometheus as Service);
    expect(services.prometheus?.command).toContain(
      `--config.file=${Object.keys(prometheus)[0]}/prometheus.yml`,
    );
    expect(existsSync(join(root, Object.values(prometheus)[0] ?? '', 'alerts.yml'))).toBe(true);

    const grafana = mounts(services.grafana as Service);
    expect(grafana['/etc/grafana/provisioning']).toBeDefined();
    const provisioning = join(root, grafana['/etc/grafana/provisioning'] ?? '');
    const [provider] = (
      parse(readFileSync(join(provisioning, 'dashboards/eventfold.yml'), 'utf8')) as {
        providers: { options: { path: string } }[];
      }
    ).providers;
    const dashboards = grafana[provider?.options.path ?? ''];
    expect(dashboards, 'the provider reads a mounted folder').toBeDefined();
    expect(existsSync(join(root, dashboards ?? '', 'eventfold.json'))).toBe(true);
    const home = envOf(services.grafana as Service).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    expect(home.startsWith(`${provider?.options.path}/`), home).toBe(true);
    const [datasource] = (
      parse(readFileSync(join(provisioning, 'datasources/prometheus.yml'), 'utf8')) as {
        datasources: { url: string }[];
      }
    ).datasources;
    expect(new URL(datasource?.url ?? '').hostname).toBe('prometheus');
    expect(services.prometheus?.healthcheck).toBeDefined();
    expect(services.grafana?.depends_on?.prometheus?.condition).toBe('service_healthy');
  });
});

type Step = { run?: string; uses?: string; name?: string };
type Job = {
  strategy?: { matrix?: { node?: number[] } };
  services?: Record<string, { image: string; ports?: string[] }>;
  env?: Record<string, string>;
  steps: Step[];
};
const workflow = parse(read('.github/workflows/ci.yml')) as { jobs: Record<string, Job> };
const scripts = Object.keys(
  (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts,
);
const runs = (job: Job) => job.steps.map((step) => step.run ?? '').join('\n');

describe('.github/workflows/ci.yml', () => {
  it('runs typecheck, lint, build and the tests on Node 20, 22 and 24', () => {
    const test = workflow.jobs.test as Job;
    expect(test.strategy?.matrix?.node).toEqual([20, 22, 24]);
    for (const script of ['typecheck', 'lint', 'build']) expect(runs(test)).toContain(`npm run ${script}`);
    expect(runs(test)).toMatch(/^npm test$/m);
    expect(runs(test)).toContain('redis-server');
  });

  it('only runs npm scripts that exist', () => {
    for (const job of Object.values(workflow.jobs))
      for (const [, script] of runs(job).matchAll(/npm run ([\w:-]+)/g)) expect(scripts).toContain(script);
  });

  it('runs the suite against EventStoreDB, a MongoDB replica set and Redis, with their URLs set', () => {
    const job = workflow.jobs['real-servers'] as Job;
    const env = job.env ?? {};
    expect(Object.keys(env).sort()).toEqual(['EVENTSTORE_URL', 'MONGO_URL', 'REDIS_URL']);
    for (const key of Object.keys(env)) expect(configKeys).toContain(key);
    const config = loadConfig(env);
    expect(job.services?.eventstore?.image).toMatch(/^eventstore\/eventstore:/);
    expect(job.services?.redis?.image).toMatch(/^redis:/);
    expect(job.services?.eventstore?.ports).toContain(
      `${new URL(config.EVENTSTORE_URL as string).port}:2113`,
    );
    expect(job.services?.redis?.ports).toContain(`${new URL(config.REDIS_URL as string).port}:6379`);
    // MongoDB comes from a step (a service container cannot run `mongod --replSet`).
    const replicaSet = /replicaSet=(\w+)/.exec(config.MONGO_URL as string)?.[1];
    expect(runs(job)).toContain(`--replSet ${replicaSet}`);
    expect(runs(job)).toContain(`rs.initiate({ _id: '${replicaSet}'`);
    expect(runs(job)).toMatch(/npm test/);
    // The contract suites say "skipped: … set EVENTSTORE_URL/MONGO_URL"; the job fails on either.
    expect(runs(job)).toContain('skipped: .*(EVENTSTORE_URL|MONGO_URL)');
  });
});

/** The Dockerfile as instructions: backslash continuations joined, comments dropped. */
const instructions = read('Dockerfile')
  .replace(/\\\n(\s*#.*\n)*/g, ' ')
  .split('\n')
  .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))
  .map((line) => {
    const [keyword = '', ...rest] = line.trim().split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
const stages = instructions.reduce<{ name: string; body: typeof instructions }[]>((all, instruction) => {
  if (instruction.keyword === 'FROM')
    all.push({ name: /\bAS\s+(\S+)/i.exec(instruction.args)?.[1] ?? '', body: [] });
  else all.at(-1)?.body.push(instruction);
  return all;
}, []);
const stage = (name: string) => stages.find((s) => s.name === name)?.body ?? [];
const argsOf = (body: typeof instructions, keyword: string) =>
  body.filter((i) => i.keyword === keyword).map((i) => i.args);

describe('Dockerfile', () => {
  it('builds in one stage, with dev dependencies and the tools better-sqlite3 compiles with', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    const build = argsOf(stage('build'), 'RUN').join('\n');
    for (const tool of ['python3', 'make', 'g++']) expect(build).toContain(tool);
    expect(build).toContain('npm ci');
    expect(build).toContain('npm run build');
    expect(build).toContain('npm prune --omit=dev');
  });

  it('copies every source folder the build compiles, none of them excluded from the context', () => {
    const config = ts.readConfigFile(join(root, 'tsconfig.build.json'), ts.sys.readFile).config as {
      include: string[];
    };
    const copied = argsOf(stage('build'), 'COPY').map((args) => args.split(' ')[0]);
    for (const folder of config.include) expect(copied).toContain(folder);
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    for (const source of copied) {
      expect(existsSync(join(root, source as string)), source).toBe(true);
      expect(ignored).not.toContain(source);
    }
    for (const local of ['node_modules', 'dist', '.git', 'data']) expect(ignored).toContain(local);
  });

  it('runs the compiled entry point as a non-root user, with a liveness health check', () => {
    const runtime = stage('runtime');
    const users = argsOf(runtime, 'USER');
    expect(users).toHaveLength(1);
    expect(['root', '0']).not.toContain(users[0]);
    const copied = argsOf(runtime, 'COPY').join('\n');
    for (const path of ['package.json', 'node_modules', 'dist'])
      expect(copied).toContain(`--from=build /app/${path}`);

    const cmd = JSON.parse(argsOf(runtime, 'CMD').at(-1) ?? '[]') as string[];
    expect(cmd[0]).toBe('node');
    // Where `npm run build` puts the entry point, as TypeScript computes it from tsconfig.build.json.
    const file = ts.readConfigFile(join(root, 'tsconfig.build.json'), ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(file.config, ts.sys, root, undefined, 'tsconfig.build.json');
    const main = join(root, 'app/main.ts');
    expect(parsed.fileNames).toContain(main);
    expect(ts.getOutputFileNames(parsed, main, false)).toContain(join(root, cmd[1] as string));
    // Node reads dist/*.js as ES modules only because package.json says so.
    expect((JSON.parse(read('package.json')) as { type: string }).type).toBe('module');

    const healthcheck = argsOf(runtime, 'HEALTHCHECK')[0] ?? '';
    const probe = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD') + 3)) as string[];
    expect(scriptOf(probe)).toContain('/health/live');
    expect(parsesAsJavaScript(scriptOf(probe) ?? '')).toBe(true);
  });

  it('ships the ops scripts compiled in dist/, with npm scripts that run them there, on production dependencies only', () => {
    const { scripts: npmScripts, dependencies } = JSON.parse(read('package.json')) as {
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
    };
    const file = ts.readConfigFile(join(root, 'tsconfig.build.json'), ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(file.config, ts.sys, root, undefined, 'tsconfig.build.json');
    expect(argsOf(stage('runtime'), 'COPY').join('\n')).toContain('--from=build /app/dist ./dist');
    const docker = runs(workflow.jobs.docker as Job);
    const opsScripts = {
      parked: 'scripts/parked.ts',
      'projections:rebuild': 'scripts/projections-rebuild.ts',
      events: 'scripts/events.ts',
    };
    for (const [name, source] of Object.entries(opsScripts)) {
      // `npm run parked` runs the sources with tsx; the image has no sources, only dist/.
      expect(npmScripts[name]).toBe(`tsx ${source}`);
      const [node, compiled, ...rest] = (npmScripts[`${name}:dist`] ?? '').split(' ');
      expect([node, rest]).toEqual(['node', []]);
      expect(parsed.fileNames).toContain(join(root, source));
      expect(ts.getOutputFileNames(parsed, join(root, source), false)).toContain(
        join(root, compiled as string),
      );
      expect(compiled).toMatch(/^dist\//);
      // CI's docker job runs it in the built image.
      expect(docker).toContain(`npm run ${name}:dist`);
    }

    // What the app and the scripts load at run time, followed from file to file: every package is a
    // production dependency (the image prunes the others) or built into Node.
    const seen = new Set<string>();
    const pending = ['app/main.ts', ...Object.values(opsScripts)].map((path) => join(root, path));
    const missing: string[] = [];
    for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
      if (seen.has(path)) continue;
      seen.add(path);
      for (const specifier of runtimeImportsOf(path)) {
        if (specifier.startsWith('.')) pending.push(join(dirname(path), specifier.replace(/\.js$/, '.ts')));
        else if (!isBuiltin(specifier) && !(packageOf(specifier) in dependencies))
          missing.push(`${relative(root, path)} imports ${specifier}`);
      }
    }
    expect(seen.size).toBeGreaterThan(50);
    expect(missing).toEqual([]);
  });
});

/** The modules a TypeScript file loads when it runs: static and dynamic imports, re-exports; not type-only ones. */
const runtimeImportsOf = (path: string): string[] => {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly) ||
      (ts.isExportDeclaration(node) && !node.isTypeOnly)
    ) {
      if (node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier))
        found.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    )
      found.push(node.arguments[0].text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
};
const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
