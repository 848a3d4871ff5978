import type { z } from 'zod';
import type { BoundCommandRoutes } from '../commands/command-api.js';
import type {
  CommandRoutes,
  ProcessManagerContext,
  ProcessManagerStarter,
} from '../commands/command-module.js';
import type { Projection } from '../projections/engine/projection.js';
import type { ModuleProjections, ProjectionOptions } from '../projections/projection-module.js';
import type { QueryRoutes } from '../read-api/query-module.js';

/** An OpenAPI tag: a group of routes in /openapi.json and /docs, with what the group is for. */
export type OpenApiTag = { name: string; description: string };

/** A module's settings schema: a zod object of environment variables, parsing to `Settings`. */
export type SettingsSchema<Settings> = z.ZodType<Settings> & { readonly shape: z.core.$ZodShape };

/**
 * One aggregate or process, as the app sees it: everything it contributes, in one value. Each part
 * comes from the module's folder in its layer, through that folder's index (commands/accounts/,
 * projections/accounts/, read-api/accounts/); the value that composes them lives here in app/
 * (app/modules/accounts.ts), because only the composition root may import every layer (commands/
 * must not import read-api/). The app lists its modules once (app/modules.ts); the command API,
 * the read API, the projectors, the process managers, the configuration, the API docs and the
 * projection scripts all loop over that list.
 */
export type Module<Settings extends object = Record<never, never>> = {
  /** kebab-case, unique among the modules. */
  readonly name: string;
  /**
   * The module's own settings, read from the environment with the base configuration (one schema,
   * one read, a bad value naming its variable); its parts receive their values.
   */
  readonly settings?: SettingsSchema<Settings>;
  readonly commandRoutes?: CommandRoutes<Settings>;
  /** Started by the projector role. */
  readonly processManagers?: readonly ProcessManagerStarter<Settings>[];
  readonly projections?: ModuleProjections;
  readonly queryRoutes?: QueryRoutes;
  /** The tags its routes are listed under, described in /openapi.json. */
  readonly openApiTags?: readonly OpenApiTag[];
};

/** A module, with the types of its parts' settings inferred from its settings schema. */
export const defineModule = <Settings extends object = Record<never, never>>(
  module: Module<Settings>,
): Module<Settings> => module;

// A list holds modules with different settings; each part is handed its own module's values.
// biome-ignore lint/suspicious/noExplicitAny: the settings type varies from module to module
export type AnyModule = Module<any>;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;

/** The settings of every module of a list, as one object type. */
export type SettingsOf<Modules extends readonly AnyModule[]> = UnionToIntersection<
  {
    [I in keyof Modules]: Modules[I] extends Module<infer Settings> ? Settings : never;
  }[number]
>;

/** Every module's projections, built with `options`. */
export const projectionsOf = (modules: readonly AnyModule[], options: ProjectionOptions): Projection[] =>
  modules.flatMap((module) => module.projections?.(options) ?? []);

/** Every module's command routes, each given its module's settings (read from `settings`). */
export const commandRoutesOf = (modules: readonly AnyModule[], settings: object): BoundCommandRoutes[] =>
  modules.flatMap(({ commandRoutes }) =>
    commandRoutes ? [(app, context) => commandRoutes(app, context, settings)] : [],
  );

/** Every module's query routes. */
export const queryRoutesOf = (modules: readonly AnyModule[]): QueryRoutes[] =>
  modules.flatMap((module) => (module.queryRoutes ? [module.queryRoutes] : []));

/** Starts every module's process managers, each given its module's settings (read from `settings`). */
export const startProcessManagers = (
  modules: readonly AnyModule[],
  context: ProcessManagerContext,
  settings: object,
) =>
  modules.flatMap((module) =>
    (module.processManagers ?? []).map((manager) => ({
      name: manager.name,
      running: manager.start(context, settings),
    })),
  );

/** Every module's OpenAPI tags. */
export const openApiTagsOf = (modules: readonly AnyModule[]): OpenApiTag[] =>
  modules.flatMap((module) => module.openApiTags ?? []);

/** The modules' settings shapes, for the configuration schema (app/config.ts). */
export const settingsOf = (modules: readonly AnyModule[]): z.core.$ZodShape[] =>
  modules.flatMap((module) => (module.settings ? [module.settings.shape] : []));
