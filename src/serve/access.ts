/**
 * Route access declarations (issue 8, DESIGN section 3): every route says which roles may call it
 * and for which purposes (`X-ACD-Purpose`). The serve layer authenticates the token and records the
 * purpose; the oversight component (issue 8) enforces roles and purposes from these declarations.
 * Public routes say so explicitly; a route without a declaration is denied.
 */

/** Roles of issue 8. */
export type Role =
  'analyst' | 'supervisor' | 'inspector' | 'operator' | 'partner' | 'police' | 'sdf' | 'administrator';

/** Every role. */
export const ROLES: readonly Role[] = [
  'analyst',
  'supervisor',
  'inspector',
  'operator',
  'partner',
  'police',
  'sdf',
  'administrator',
];

/**
 * Purposes a request can name. `monitoring` = the live situation picture (the demo token's
 * default); `incident-handling` = working on alerts and incidents; `investigation` = querying
 * selected records for a case; `oversight` = the commission's inspection; `administration` =
 * running the system.
 */
export type Purpose = 'monitoring' | 'incident-handling' | 'investigation' | 'oversight' | 'administration';

/** Every purpose. */
export const PURPOSES: readonly Purpose[] = [
  'monitoring',
  'incident-handling',
  'investigation',
  'oversight',
  'administration',
];

/** What a route requires: public, or one of `roles` acting for one of `purposes`. */
export type RouteAccess =
  | { readonly public: true }
  | { readonly public?: false; readonly roles: readonly Role[]; readonly purposes: readonly Purpose[] };

/** The access of a public route. */
export const PUBLIC: RouteAccess = { public: true };

/** Declares a non-public route's roles and purposes. */
export function requires(roles: readonly Role[], purposes: readonly Purpose[]): RouteAccess {
  return { roles, purposes };
}

/** True for the strings of `Purpose`. */
export function isPurpose(s: string): s is Purpose {
  return (PURPOSES as readonly string[]).includes(s);
}

/** True for the strings of `Role`. */
export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

/** Reads the access declaration from a route's `config` (undefined when it has none). */
export function routeAccess(config: unknown): RouteAccess | undefined {
  if (typeof config !== 'object' || config === null || !('access' in config)) return undefined;
  const a = config.access;
  if (typeof a !== 'object' || a === null) return undefined;
  if ('public' in a && a.public === true) return PUBLIC;
  if ('roles' in a && 'purposes' in a && Array.isArray(a.roles) && Array.isArray(a.purposes))
    return a as RouteAccess;
  return undefined;
}
