import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadAppConfig } from '../app/config.js';
import { type System, startSystem } from '../app/system.js';
import { fixtureModule } from '../app/testing/fixture-module.js';
import { adminHeaders, testAuthentication } from '../infra/auth/testing/test-tokens.js';
import { createLogger } from '../infra/logger.js';
import { composeEnvironment } from '../infra/testing/compose-environment.js';
import {
  parseScrape,
  problemsOf,
  type Scrape,
  type Selector,
  selectorsOf,
  type Target,
} from './check-queries.js';

/**
 * The Grafana dashboard and the Prometheus rules, held to a running app: every metric their
 * queries name must be served, with samples, by /metrics of the whole system (all roles, the
 * engines' fixture module, after a few requests), so a renamed metric or label breaks the build,
 * not the dashboard. Not checked here (no Prometheus or Grafana in the test): that Prometheus
 * accepts every expression as PromQL (`promtool check rules ops/prometheus/alerts.yml` does) and
 * that Grafana draws the panels.
 */
const root = resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

type Target_ = { refId: string; expr: string; datasource?: unknown };
type Panel = {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: unknown;
  targets?: Target_[];
  panels?: Panel[];
};
type Variable = { name: string; type: string; query?: string | { query: string } };
type Dashboard = { uid: string; title: string; panels: Panel[]; templating: { list: Variable[] } };
type Rule = {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};
type RulesFile = { groups: { name: string; rules: Rule[] }[] };
type ScrapeConfig = {
  job_name: string;
  metrics_path?: string;
  dns_sd_configs?: { names: string[]; port: number }[];
  authorization?: { type?: string; credentials_file?: string };
  relabel_configs?: { target_label?: string }[];
};

const dashboard = JSON.parse(read('ops/grafana/dashboards/eventfold.json')) as Dashboard;
const rules = parse(read('ops/prometheus/alerts.yml')) as RulesFile;
const prometheus = parse(read('ops/prometheus/prometheus.yml')) as {
  rule_files: string[];
  scrape_configs: ScrapeConfig[];
};

/** Every panel, those inside collapsed rows included. */
const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
const queryPanels = panels.filter((panel) => panel.type !== 'row');
/** Grafana's label_values(selector, label): the selector is PromQL, the label must exist on it. */
const variableQueries = dashboard.templating.list.flatMap((variable) => {
  const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
  const labelValues = /^label_values\((.+),\s*([a-zA-Z_]\w*)\)$/.exec(query ?? '');
  return variable.type === 'query' && labelValues
    ? [
        {
          where: `variable ${variable.name}`,
          expr: labelValues[1] as string,
          label: labelValues[2] as string,
        },
      ]
    : [];
});
const queries = [
  ...queryPanels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr })),
  ),
  ...variableQueries,
  ...rules.groups.flatMap((group) =>
    group.rules.map((rule) => ({ where: `rule ${rule.alert ?? rule.record}`, expr: rule.expr })),
  ),
];

/** The labels Prometheus gives every series of the scrape jobs, from prometheus.yml. */
const target: Target = {
  labels: new Set([
    'job',
    'instance',
    ...prometheus.scrape_configs.flatMap((job) =>
      (job.relabel_configs ?? []).flatMap((relabel) => relabel.target_label ?? []),
    ),
  ]),
  jobs: new Set(prometheus.scrape_configs.map((job) => job.job_name)),
  series: new Set(['up']),
};

/**
 * The one way this test reads /metrics: when /metrics asks for a token, the header goes here.
 */
// As Prometheus scrapes when METRICS_TOKEN is unset: with an admin's token.
const getMetrics = (baseUrl: string) => fetch(new URL('/metrics', baseUrl), { headers: adminHeaders() });

describe('the PromQL reader', () => {
  const names = (expr: string) => selectorsOf(expr).map((selector) => selector.name);

  it('finds the metrics of selectors, function arguments, bare names and both sides of operators', () => {
    expect(
      names(
        'histogram_quantile(0.95, sum by (le, route) (rate(http_seconds_bucket{route=~"/a|/b", job="x"}[$__rate_interval])))',
      ),
    ).toEqual(['http_seconds_bucket']);
    expect(names('sum(rate(a_total[5m])) by (x) / on (x) group_left b_info offset 1h > bool 0.5')).toEqual([
      'a_total',
      'b_info',
    ]);
    expect(names('(x or vector(0)) unless y{z!~"a\\"b}"} and max_over_time(w[1h:5m]) == Inf')).toEqual([
      'x',
      'y',
      'w',
    ]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable, not a JavaScript template
    expect(selectorsOf('m{a="1", b=~"$role", c!="${instance}"}')).toEqual([
      { name: 'm', labels: ['a', 'b', 'c'], equals: { a: '1' } },
    ]);
  });

  it('refuses what it cannot read instead of guessing', () => {
    expect(() => selectorsOf('rat(x[5m])')).toThrow(/unknown function rat/);
    expect(() => selectorsOf('sum(rate(x[5m])')).toThrow(/unbalanced \(/);
    expect(() => selectorsOf('sum(x))')).toThrow(/unbalanced \)/);
    expect(() => selectorsOf('{__name__=~"eventfold_.*"}')).toThrow(/without a metric name/);
    expect(() => selectorsOf('x{a~"b"}')).toThrow(/expected =/);
    expect(() => selectorsOf('x[five minutes]')).toThrow(/not a range/);
  });

  it('tells a series Prometheus would not see from one that exists', () => {
    // A labelled counter nothing has counted yet: prom-client declares it, serves no sample.
    const scrape = parseScrape(
      [
        '# HELP a_total A counter.',
        '# TYPE a_total counter',
        'a_total{kind="x",note="has, a comma=\\"quoted\\""} 1',
        '# TYPE b_seconds histogram',
        '# TYPE c_total counter',
      ].join('\n'),
    );
    const none: Target = { labels: new Set(), jobs: new Set(), series: new Set() };
    expect(problemsOf(selectorsOf('a_total{kind="x", note=""}'), scrape, none)).toEqual([]);
    expect(problemsOf(selectorsOf('a_total{comma="x"}'), scrape, none)).toEqual([
      'a_total: no label comma (has kind, note)',
    ]);
    expect(problemsOf(selectorsOf('rate(b_seconds_bucket[1m]) + c_total'), scrape, none)).toEqual([
      'b_seconds_bucket: declared (histogram b_seconds) but no sample in this scrape',
      'c_total: declared (counter c_total) but no sample in this scrape',
    ]);
  });
});

describe('the dashboard', () => {
  it('has a uid, a title and panels with unique ids that do not overlap', () => {
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard.title).not.toBe('');
    const ids = panels.map((panel) => panel.id);
    expect(ids.every(Number.isInteger)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [i, a] of panels.entries()) {
      expect(a.gridPos.x + a.gridPos.w, a.title).toBeLessThanOrEqual(24);
      for (const b of panels.slice(i + 1)) {
        const overlap =
          a.gridPos.x < b.gridPos.x + b.gridPos.w &&
          b.gridPos.x < a.gridPos.x + a.gridPos.w &&
          a.gridPos.y < b.gridPos.y + b.gridPos.h &&
          b.gridPos.y < a.gridPos.y + a.gridPos.h;
        expect(overlap, `${a.title} overlaps ${b.title}`).toBe(false);
      }
    }
  });

  it('gives every panel but the rows a data source and targets with a query and a unique refId', () => {
    expect(queryPanels.length).toBeGreaterThan(10);
    for (const panel of queryPanels) {
      expect(panel.datasource, panel.title).toBeDefined();
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      const refIds = (panel.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
      for (const t of panel.targets ?? []) expect(t.expr.trim(), panel.title).not.toBe('');
    }
  });

  it("uses only its own variables and Grafana's", () => {
    const own = new Set(dashboard.templating.list.map((variable) => variable.name));
    const builtIn = new Set(['__rate_interval', '__interval', '__range', '__range_s']);
    // In queries and data source references; descriptions may say $all (the log) in prose.
    const datasources = panels.flatMap((p) => [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)]);
    const used = JSON.stringify([queries.map((q) => q.expr), datasources]).matchAll(/\$\{?(\w+)/g);
    for (const [, name] of used)
      expect(own.has(name as string) || builtIn.has(name as string), name).toBe(true);
  });

  it('shows what the issue asks for', () => {
    const used = new Set(
      queryPanels.flatMap((p) => (p.targets ?? []).flatMap((t) => selectorsOf(t.expr).map((s) => s.name))),
    );
    for (const metric of [
      'eventfold_http_request_duration_seconds_count', // request rates per route
      'eventfold_http_request_duration_seconds_bucket', // latencies per route
      'eventfold_commands_total',
      'eventfold_events_appended_total',
      'eventfold_projection_lag_events',
      'eventfold_projection_events_total',
      'eventfold_projection_parked_events',
      'eventfold_read_cache_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      expect(used, metric).toContain(metric);
  });
});

describe('the alert rules', () => {
  it('are groups of alerts, each with an expression, a for, a severity and what to tell a person', () => {
    expect(rules.groups.length).toBeGreaterThan(0);
    const alerts = rules.groups.flatMap((group) => {
      expect(group.name, 'group name').toMatch(/\S/);
      expect(group.rules.length, group.name).toBeGreaterThan(0);
      return group.rules;
    });
    expect(new Set(rules.groups.map((g) => g.name)).size).toBe(rules.groups.length);
    for (const rule of alerts) {
      expect(rule.alert, JSON.stringify(rule)).toMatch(/^[A-Z][A-Za-z0-9]+$/);
      expect(rule.expr.trim(), rule.alert).not.toBe('');
      expect(rule.for, rule.alert).toMatch(/^(\d+[smhd])+$/);
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toMatch(/\S/);
      expect(rule.annotations?.description, rule.alert).toMatch(/\S/);
    }
    const names = alerts.map((rule) => rule.alert);
    expect(new Set(names).size).toBe(names.length);
  });

  it('cover what the issue asks for', () => {
    const exprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr)).join('\n');
    expect(exprs).toContain('deriv(eventfold_projection_lag_events'); // projection lag growing
    expect(exprs).toContain('eventfold_projection_parked_events'); // parked events
    expect(exprs).toContain('eventfold_ready'); // readiness failing
    expect(exprs).toMatch(/status_code=~"5\.\."/); // 5xx rate
    expect(exprs).toMatch(/eventfold_read_consistency_waits_total\{[^}]*result="timeout"/); // consistency timeouts
  });

  it('are loaded by prometheus.yml, which scrapes the compose file app services', () => {
    expect(prometheus.rule_files).toEqual(['alerts.yml']);
    const compose = parse(read('docker-compose.yml'), { merge: true }) as {
      services: Record<
        string,
        { build?: unknown; environment?: Record<string, string>; entrypoint?: string[] }
      >;
    };
    const apps = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);
    const [job] = prometheus.scrape_configs;
    expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
    expect(job?.dns_sd_configs?.[0]?.names.sort()).toEqual(apps.map(([name]) => name).sort());
    // The app listens on PORT, which compose leaves at its default.
    for (const [name, service] of apps)
      expect(job?.dns_sd_configs?.[0]?.port, name).toBe(
        loadAppConfig(composeEnvironment(service.environment), [fixtureModule]).PORT,
      );
    // Prometheus sends the token every app container is given, from the file its entrypoint writes.
    const token = compose.services.prometheus?.environment?.METRICS_TOKEN;
    expect(token).toBeDefined();
    for (const [name, service] of apps) expect(service.environment?.METRICS_TOKEN, name).toBe(token);
    expect(job?.authorization?.type).toBe('Bearer');
    expect(compose.services.prometheus?.entrypoint?.join(' ')).toContain(
      `"$$METRICS_TOKEN" > ${job?.authorization?.credentials_file} `,
    );
  });
});

describe('every query, against /metrics of a running app', () => {
  let system: System;
  let scrape: Scrape;
  const dir = mkdtempSync(join(tmpdir(), 'eventfold-dashboards-'));

  beforeAll(async () => {
    const modules = [fixtureModule];
    const config = loadAppConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir }, modules);
    system = await startSystem(config, createLogger({ level: 'silent' }), {
      modules,
      auth: testAuthentication,
    });
    const http = (path: string, init?: RequestInit) =>
      fetch(new URL(path, system.url), { ...init, headers: { ...adminHeaders(), ...init?.headers } });
    const post = (path: string, body: object) =>
      http(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    // A command accepted and one rejected, a read that waits for its write, cached reads, a 404.
    expect((await post('/counters', { counterId: 'd1', owner: 'Ada' })).status).toBe(201);
    const increment = await post('/counters/d1/increments', { amount: 5 });
    expect(increment.status).toBe(200);
    expect((await post('/counters/d1/decrements', { amount: 1000 })).status).toBe(422);
    const { position } = (await increment.json()) as { position: string };
    expect((await http('/counters/d1', { headers: { 'x-min-position': position } })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await http('/counters/d1')).status).toBe(200);
    expect((await http('/nowhere')).status).toBe(404);

    const response = await getMetrics(system.url);
    expect(response.status).toBe(200);
    scrape = parseScrape(await response.text());
  });

  afterAll(async () => {
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds every metric and label the dashboard and the rules query, with samples', () => {
    expect(queries.length).toBeGreaterThan(30);
    const problems = queries.flatMap(({ where, expr, ...rest }) => {
      const selectors: Selector[] = selectorsOf(expr);
      expect(selectors.length, `${where}: ${expr}`).toBeGreaterThan(0);
      if ('label' in rest) for (const selector of selectors) selector.labels.push(rest.label as string);
      return problemsOf(selectors, scrape, target).map((problem) => `${where}: ${problem}`);
    });
    expect(problems).toEqual([]);
  });

  it('reports a metric that is missing, a histogram without its suffix, a label that is missing', () => {
    const check = (expr: string) => problemsOf(selectorsOf(expr), scrape, target);
    expect(check('rate(eventfold_commands_total[5m])')).toEqual([]);
    expect(check('sum(rate(eventfold_commands_renamed_total[5m]))')).toEqual([
      'eventfold_commands_renamed_total: no such series in /metrics',
    ]);
    expect(check('rate(eventfold_http_request_duration_seconds[5m])')).toEqual([
      'eventfold_http_request_duration_seconds: a histogram, queried by its series: ' +
        'eventfold_http_request_duration_seconds_bucket, eventfold_http_request_duration_seconds_sum, ' +
        'eventfold_http_request_duration_seconds_count',
    ]);
    // A counter has no _count series, and a histogram's buckets are not a counter's.
    expect(check('eventfold_commands_total_count')).toEqual([
      'eventfold_commands_total_count: no such series in /metrics',
    ]);
    expect(check('eventfold_commands_total{verdict="accepted"}')).toEqual([
      expect.stringMatching(/^eventfold_commands_total: no label verdict \(has .*outcome/),
    ]);
    expect(check('up{job="eventfold"} + eventfold_ready{job="other"}')).toEqual([
      'eventfold_ready: job="other" is not a scrape job (eventfold)',
    ]);
  });
});
