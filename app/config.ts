import { type Config, loadConfig, loadConfigOrExit, withSettings } from '../infra/config.js';
import { type AnyModule, type SettingsOf, settingsOf } from './module.js';
import { modules as appModules } from './modules.js';

/** The app's configuration: the base settings (infra/config.ts) and every module's own. */
export type AppConfig = Config & SettingsOf<typeof appModules>;

/** The base schema with the settings of `modules`, as one schema (a variable defined twice is refused). */
export const appConfigSchema = (modules: readonly AnyModule[] = appModules) =>
  withSettings(...settingsOf(modules));

/**
 * The app's configuration from `env`, through the one schema; a bad value throws a ConfigError
 * naming the variable. (Typed for the app's modules: the schema is built from the list at run time.)
 */
export const loadAppConfig = (env: NodeJS.ProcessEnv = process.env, modules?: readonly AnyModule[]) =>
  loadConfig(env, appConfigSchema(modules)) as AppConfig;

/** For entry points: the app's configuration, or what is wrong on stderr and exit `exitCode`. */
export const loadAppConfigOrExit = (
  exitCode: number,
  env: NodeJS.ProcessEnv = process.env,
  modules?: readonly AnyModule[],
) => loadConfigOrExit(exitCode, env, appConfigSchema(modules)) as AppConfig;
