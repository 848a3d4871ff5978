import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../infra/config.js';
import { appConfigSchema, loadAppConfig } from './config.js';
import { defineModule, projectionsOf } from './module.js';
import { modules } from './modules.js';

describe("the app's configuration", () => {
  it("reads the modules' settings with the base ones, through one schema", () => {
    const config = loadAppConfig({ PORT: '8080', TRANSFER_WAIT_MAX_SECONDS: '7' });
    expect(config).toMatchObject({ PORT: 8080, TRANSFER_WAIT_MAX_SECONDS: 7, TRANSFER_DEADLINE_MS: 60_000 });
  });

  it("refuses a bad value of a module's setting, naming the variable", () => {
    expect(() => loadAppConfig({ TRANSFER_DEADLINE_MS: 'soon' })).toThrow(ConfigError);
    expect(() => loadAppConfig({ TRANSFER_DEADLINE_MS: 'soon' })).toThrow(/TRANSFER_DEADLINE_MS/);
  });

  it('refuses a setting that two owners define', () => {
    const clash = defineModule({ name: 'clash', settings: z.object({ PORT: z.string().default('x') }) });
    expect(() => appConfigSchema([...modules, clash])).toThrow('the setting PORT is defined twice');
  });
});

describe('the module list', () => {
  it('names each module, and each projection, once', () => {
    const names = modules.map((module) => module.name);
    expect(new Set(names).size).toBe(names.length);
    const projections = projectionsOf(modules, {}).map((projection) => projection.name);
    expect(new Set(projections).size).toBe(projections.length);
    expect(projections.length).toBeGreaterThan(0);
  });
});
