import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appConfigSchema, loadAppConfig } from './config.js';

/**
 * `.env.example` lists every setting of the app's config schema (the base one and every module's),
 * with its default, and nothing else.
 */
const text = readFileSync(resolve(import.meta.dirname, '../.env.example'), 'utf8');
const lines = text.split('\n');
const entries = lines.flatMap((line, index) => {
  const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
  return match ? [{ key: match[1] as string, value: match[2] as string, index }] : [];
});
const keys = Object.keys(appConfigSchema().shape);
const defaults = loadAppConfig({}) as Record<string, unknown>;

describe('.env.example', () => {
  it('lists every variable of the config schema once, and no other', () => {
    expect(entries.map((e) => e.key).sort()).toEqual([...keys].sort());
  });

  it.each(entries)('$key shows its default', ({ key, value }) => {
    expect((loadAppConfig({ [key]: value }) as Record<string, unknown>)[key]).toEqual(defaults[key]);
  });

  it.each(entries)('$key has a one-line comment above it', ({ index }) => {
    expect(lines[index - 1]).toMatch(/^# \S/);
  });

  it('loads as a whole to the defaults', () => {
    expect(loadAppConfig(Object.fromEntries(entries.map((e) => [e.key, e.value])))).toEqual(defaults);
  });
});
