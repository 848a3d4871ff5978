/**
 * A compose service's `environment` as the app would see it when nothing is set on the host:
 * `${VAR:-default}` becomes its default (empty when there is none), as `docker compose` reads it.
 */
export const composeEnvironment = (environment: Record<string, unknown> = {}): Record<string, string> =>
  Object.fromEntries(
    Object.entries(environment).map(([key, value]) => [
      key,
      String(value).replace(/\$\{\w+(?::?-([^}]*))?\}/g, (_, fallback = '') => fallback),
    ]),
  );
