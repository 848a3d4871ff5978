import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{domain,commands,projections,read-api,infra,app,scripts,ops}/**/*.test.ts'],
    // Suites that start servers (SQLite files, redis-server) need time on a 2-core machine.
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
