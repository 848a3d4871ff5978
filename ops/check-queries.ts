/**
 * Holds the PromQL of the dashboard and the alert rules to a real /metrics: which metric names an
 * expression selects (with the label names it matches on), what a scrape serves, and what is
 * missing. Not a PromQL parser: a tokenizer that knows PromQL's functions, aggregations and
 * keywords, so every other identifier is a metric name, and that refuses what it cannot read
 * (an unknown function, unbalanced brackets, a selector without a name) rather than guess.
 */

/** One vector selector: `name{label="value", …}`, and the values of its equality matchers. */
export type Selector = { name: string; labels: string[]; equals: Record<string, string> };

const FUNCTIONS = new Set(
  `abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes clamp
  clamp_max clamp_min cos cosh count_over_time day_of_month day_of_week day_of_year days_in_month deg
  delta deriv double_exponential_smoothing end exp floor histogram_avg histogram_count
  histogram_fraction histogram_quantile histogram_stddev histogram_stdvar histogram_sum holt_winters
  hour idelta increase info irate label_join label_replace last_over_time ln log10 log2
  mad_over_time max_over_time min_over_time minute month pi predict_linear present_over_time
  quantile_over_time rad rate resets round scalar sgn sin sinh sort sort_by_label sort_by_label_desc
  sort_desc sqrt start stddev_over_time stdvar_over_time sum_over_time tan tanh time timestamp vector
  year`.split(/\s+/),
);
const AGGREGATIONS = new Set(
  'sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk limit_ratio'.split(
    ' ',
  ),
);
/** Followed by a parenthesised list of label names, not an expression. */
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const OPERATOR_KEYWORDS = new Set(['and', 'or', 'unless', 'atan2', 'bool', 'offset']);
const NUMBER_WORDS = new Set(['inf', 'nan']);

const IDENTIFIER = /[a-zA-Z_:][\w:]*/y;
const LABEL_NAME = /[a-zA-Z_]\w*/y;
/** A number or a duration: 0.95, 1e3, 0x1f, 5m, 1h30m. */
const NUMBER = /(?:0x[\da-fA-F]+|\d*\.?\d+(?:[eE][+-]?\d+)?)(?:[a-z]+\d*)*/y;
/** A Grafana variable: $__rate_interval, $role, ${instance}, ${instance:regex}. */
const VARIABLE = /\$(?:\{\w+(?::\w+)?\}|\w+)/y;

const match = (pattern: RegExp, text: string, at: number) => {
  pattern.lastIndex = at;
  return pattern.exec(text)?.[0];
};

/** Every vector selector in a PromQL expression. Throws, naming the place, on what it cannot read. */
export const selectorsOf = (expr: string): Selector[] => {
  const found: Selector[] = [];
  const fail = (what: string, at: number): never => {
    throw new Error(`${what} at ${at} in: ${expr}`);
  };
  const skipSpace = (at: number) => {
    while (at < expr.length && /\s/.test(expr[at] as string)) at++;
    return at;
  };
  const readString = (at: number) => {
    const quote = expr[at];
    for (let i = at + 1; i < expr.length; i++) {
      if (quote !== '`' && expr[i] === '\\') i++;
      else if (expr[i] === quote) return { value: expr.slice(at + 1, i), end: i + 1 };
    }
    return fail('unterminated string', at);
  };
  /** `{a="b", c=~"d"}` from its opening brace: the label names, and the values of `=` matchers. */
  const readMatchers = (at: number) => {
    const labels: string[] = [];
    const equals: Record<string, string> = {};
    let i = skipSpace(at + 1);
    while (expr[i] !== '}') {
      const label = match(LABEL_NAME, expr, i) ?? fail('expected a label name', i);
      i = skipSpace(i + label.length);
      const op =
        ['=~', '!~', '!=', '='].find((o) => expr.startsWith(o, i)) ?? fail('expected =, !=, =~ or !~', i);
      i = skipSpace(i + op.length);
      if (!['"', "'", '`'].includes(expr[i] as string)) fail('expected a quoted label value', i);
      const { value, end } = readString(i);
      labels.push(label);
      if (op === '=') equals[label] = value;
      i = skipSpace(end);
      if (expr[i] === ',') i = skipSpace(i + 1);
      else if (expr[i] !== '}') fail('expected , or }', i);
    }
    return { labels, equals, end: i + 1 };
  };

  const parens: number[] = [];
  for (let i = skipSpace(0); i < expr.length; i = skipSpace(i)) {
    const c = expr[i] as string;
    if (c === '"' || c === "'" || c === '`') {
      i = readString(i).end;
    } else if (c === '{') {
      // A selector without a metric name, e.g. {__name__=~"…"}: this checker cannot tell what it selects.
      fail('selector without a metric name', i);
    } else if (c === '[') {
      // A range or a subquery's range and step: durations or Grafana variables, nothing to check.
      const close = expr.indexOf(']', i);
      if (close === -1) fail('unbalanced [', i);
      const inside = expr.slice(i + 1, close);
      if (!/^\s*[\w$]+\s*(:\s*[\w$]*\s*)?$/.test(inside)) fail(`not a range: [${inside}]`, i);
      i = close + 1;
    } else if (c === '(') {
      parens.push(i);
      i++;
    } else if (c === ')') {
      if (parens.pop() === undefined) fail('unbalanced )', i);
      i++;
    } else if (c === '$') {
      i += (match(VARIABLE, expr, i) ?? fail('not a variable', i)).length;
    } else if (/[\d.]/.test(c)) {
      i += (match(NUMBER, expr, i) ?? fail('not a number', i)).length;
    } else if (/[a-zA-Z_:]/.test(c)) {
      const word = match(IDENTIFIER, expr, i) as string;
      const next = skipSpace(i + word.length);
      if (LABEL_LIST_KEYWORDS.has(word)) {
        if (expr[next] !== '(') {
          // group_left and group_right may stand without a list.
          if (!word.startsWith('group_')) fail(`${word} without a label list`, i);
          i = next;
          continue;
        }
        const close = expr.indexOf(')', next);
        if (close === -1) fail('unbalanced (', next);
        if (!/^\s*([a-zA-Z_]\w*\s*(,\s*[a-zA-Z_]\w*\s*)*,?)?\s*$/.test(expr.slice(next + 1, close)))
          fail(`${word} takes a list of label names`, next);
        i = close + 1;
      } else if (expr[next] === '(') {
        if (!FUNCTIONS.has(word) && !AGGREGATIONS.has(word)) fail(`unknown function ${word}`, i);
        i = next;
      } else if (
        AGGREGATIONS.has(word) ||
        OPERATOR_KEYWORDS.has(word) ||
        NUMBER_WORDS.has(word.toLowerCase())
      ) {
        // `sum by (x) (…)`, `a and b`, `x offset 5m` (the duration reads as a number next), Inf, NaN.
        i = next;
      } else if (FUNCTIONS.has(word)) {
        fail(`function ${word} without its arguments`, i);
      } else if (expr[next] === '{') {
        const { labels, equals, end } = readMatchers(next);
        found.push({ name: word, labels, equals });
        i = end;
      } else {
        found.push({ name: word, labels: [], equals: {} });
        i = next;
      }
    } else if ('+-*/%^=!<>,@'.includes(c)) {
      i++;
    } else {
      fail(`unexpected ${JSON.stringify(c)}`, i);
    }
  }
  if (parens.length > 0) fail('unbalanced (', parens.at(-1) as number);
  return found;
};

/** What one scrape serves: each series name with the label names its samples carry. */
export type Scrape = {
  /** Series names with at least one sample, e.g. `foo_bucket`, `foo_sum`, `bar_total`. */
  samples: Map<string, Set<string>>;
  /** Metric families by `# TYPE`: counter, gauge, histogram, summary, untyped. */
  types: Map<string, string>;
};

/** The Prometheus text format (version 0.0.4), as prom-client serves it. */
export const parseScrape = (text: string): Scrape => {
  const samples = new Map<string, Set<string>>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1] as string, type[2] as string);
    if (line.startsWith('#')) continue;
    const name = match(IDENTIFIER, line, 0);
    if (name === undefined) throw new Error(`not a sample line: ${line}`);
    const labels = samples.get(name) ?? new Set<string>();
    // Label names only; a value may hold anything, so values are stepped over as strings.
    for (const [, label] of line.slice(name.length).matchAll(/[{,]\s*([a-zA-Z_]\w*)="(?:[^"\\]|\\.)*"/g))
      labels.add(label as string);
    samples.set(name, labels);
  }
  return { samples, types };
};

/** The series names a family's samples go by: a histogram's are its _bucket, _sum and _count. */
const seriesOfFamily = (family: string, type: string) =>
  type === 'histogram'
    ? [`${family}_bucket`, `${family}_sum`, `${family}_count`]
    : type === 'summary'
      ? [family, `${family}_sum`, `${family}_count`]
      : [family];

export type Target = {
  /** Labels Prometheus adds to every series of a target: job, instance and relabelled ones. */
  labels: ReadonlySet<string>;
  /** The scrape jobs' names: what a job="…" matcher may ask for. */
  jobs: ReadonlySet<string>;
  /** Series Prometheus writes itself for each target (`up`), which no /metrics serves. */
  series: ReadonlySet<string>;
};

/** What is wrong with the selectors, one sentence each; empty when all of them find their series. */
export const problemsOf = (selectors: readonly Selector[], scrape: Scrape, target: Target): string[] =>
  selectors.flatMap(({ name, labels, equals }) => {
    const problems: string[] = [];
    const known = target.series.has(name) ? new Set<string>() : scrape.samples.get(name);
    if (known === undefined) {
      const family = [...scrape.types].find(([family, type]) => seriesOfFamily(family, type).includes(name));
      if (family) return [`${name}: declared (${family[1]} ${family[0]}) but no sample in this scrape`];
      const type = scrape.types.get(name);
      if (type === 'histogram' || type === 'summary')
        return [`${name}: a ${type}, queried by its series: ${seriesOfFamily(name, type).join(', ')}`];
      return [`${name}: no such series in /metrics`];
    }
    for (const label of labels)
      if (!known.has(label) && !target.labels.has(label) && label !== '__name__')
        problems.push(`${name}: no label ${label} (has ${[...known, ...target.labels].sort().join(', ')})`);
    if (equals.job !== undefined && !target.jobs.has(equals.job))
      problems.push(`${name}: job="${equals.job}" is not a scrape job (${[...target.jobs].join(', ')})`);
    return problems;
  });
