import { z } from 'zod';

/**
 * Who asks for a command: the authenticated subject and its roles. Commands that only an owner may
 * give carry it, so that the decider, not the transport, enforces who may do what.
 */
export const Actor = z.object({
  subject: z.string().min(1).max(200),
  roles: z.array(z.string().min(1).max(100)).max(50),
});
export type Actor = z.infer<typeof Actor>;

/** The role that may act on anything it could act on as its owner. */
export const ADMIN_ROLE = 'admin';

/** True when `actor` may act for what belongs to `ownerId`. */
export const actsFor = (actor: Actor, ownerId: string) =>
  actor.subject === ownerId || actor.roles.includes(ADMIN_ROLE);
