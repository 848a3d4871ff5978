/** What the bench:read server and load generator agree on: the accounts and the scenarios. */
export const BENCH_ACCOUNTS = 10_000;
export const benchAccountId = (i: number) => `bench-${String(i).padStart(6, '0')}`;
export const benchAccountView = (i: number) => ({
  accountId: benchAccountId(i),
  owner: `owner-${i % 100}`,
  ownerId: 'bench',
  currency: 'EUR',
  balance: 12_345 + i,
  status: 'open' as const,
  revision: 7,
  openedAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-02T00:00:00.000Z',
});

/**
 * bare: plain Fastify, no schemas. app: the shared HTTP app (createHttpApp) with the route's zod
 * schemas, answering the JSON without reading anything. hit, hit-redis, miss: the read API.
 */
export type Scenario = 'bare' | 'app' | 'hit' | 'hit-redis' | 'miss';
