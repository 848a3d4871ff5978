/**
 * Who a request acts for: the verified token's subject and its roles. The domain takes the same
 * shape as its Actor (domain/shared/actor.ts); infra does not import the domain, so it is declared
 * twice and kept in step by the type checker where the two meet (the command routes).
 */
export type Principal = { readonly subject: string; readonly roles: readonly string[] };

/** The role that may act on every account, read every model and see the operations endpoints. */
export const ADMIN_ROLE = 'admin';

export const isAdmin = (principal: Principal) => principal.roles.includes(ADMIN_ROLE);

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook (authenticate.ts) on every route that is not public. */
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** A route anyone may call, without a token: the health probes. */
    public?: boolean;
  }
}
