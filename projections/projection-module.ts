import type { Cache } from '../infra/cache/cache.js';
import type { Projection } from './engine/projection.js';

/** What a module's projections are built with. */
export type ProjectionOptions = {
  /**
   * The cache their after-flush hooks keep fresh. Absent where the read models are not the app's
   * (a script projecting the embedded store in its own process): then they write no cache entries.
   */
  cache?: { cache: Cache; ttlSeconds: number };
};

/**
 * A module's read models: what startProjections runs, what the read role's lag check and
 * x-min-position waits name, what `npm run parked` and `npm run projections:rebuild` find by name.
 * A module's folder (projections/accounts/) exports it from its index.
 */
export type ModuleProjections = (options: ProjectionOptions) => readonly Projection[];
