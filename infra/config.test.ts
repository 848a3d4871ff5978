import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('config: ROLES', () => {
  it('runs every role when unset', () => {
    expect(loadConfig({}).ROLES).toEqual(['write', 'read', 'projector']);
  });

  it('reads a comma-separated subset, trimmed, without repeats', () => {
    expect(loadConfig({ ROLES: ' read , projector,read' }).ROLES).toEqual(['read', 'projector']);
  });

  it.each([
    ['', /ROLES: name at least one of write, read, projector/],
    [',', /ROLES: name at least one of/],
    ['read,writer', /ROLES\.1: each role must be one of write, read, projector/],
  ])('refuses %j, naming ROLES', (value, message) => {
    expect(() => loadConfig({ ROLES: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ROLES: value })).toThrow(message);
  });
});
