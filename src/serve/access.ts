/**
 * Route access declarations and their enforcement (issue 8, R-OVS-1, DESIGN section 3): every route
 * says which roles may call it and for which purposes (`X-ACD-Purpose`); `decideAccess` is the one
 * place that grants or refuses. Public routes say so explicitly; a route without a declaration is
 * denied. The role × route matrix is `ACCESS` below, the role × purpose matrix `ROLE_PURPOSES`.
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

/**
 * Purposes each role may ever act for; a user's (or token's) own purposes are a subset. Analysts
 * and supervisors run the centre day to day; the commission inspector only inspects; an operator
 * works on the incidents affecting its organisation; a partner agency shares indicators; police
 * investigate; the SDF handle incidents and watch the situation; the administrator runs the system.
 */
export const ROLE_PURPOSES: Readonly<Record<Role, readonly Purpose[]>> = {
  analyst: ['monitoring', 'incident-handling', 'investigation'],
  supervisor: ['monitoring', 'incident-handling', 'investigation'],
  inspector: ['oversight'],
  operator: ['incident-handling'],
  partner: ['monitoring', 'incident-handling'],
  police: ['investigation', 'incident-handling'],
  sdf: ['monitoring', 'incident-handling'],
  administrator: ['administration'],
};

/** The default purpose of a role (the first of `ROLE_PURPOSES`). */
export function defaultPurposeOf(role: Role): Purpose {
  return ROLE_PURPOSES[role][0] ?? 'monitoring';
}

/** Roles that belong to one organisation (operator) or agency (partner): they need `organisation`. */
export const ORGANISATION_ROLES: readonly Role[] = ['operator', 'partner'];

/**
 * The role × route matrix: each group of routes and who may call it for which purposes. Routes
 * use these groups (never ad-hoc lists) so the matrix is read in one place:
 *
 * | group        | routes                                             | roles                                       | purposes |
 * |--------------|----------------------------------------------------|---------------------------------------------|----------|
 * | situation    | overview, providers, feeds                         | analyst, supervisor, inspector, administrator | monitoring, incident-handling, oversight, administration |
 * | statistics   | stats/series, stats/top                            | analyst, supervisor, inspector, administrator | monitoring, incident-handling, oversight, administration |
 * | live         | events (SSE: alerts and incidents as they happen)  | analyst, supervisor                         | monitoring, incident-handling |
 * | alerts       | alerts, alert, suppressions                        | analyst, supervisor                         | monitoring, incident-handling, investigation |
 * | incidents    | incidents, incident (operators: their own only)    | analyst, supervisor, operator, police, sdf  | monitoring, incident-handling, investigation |
 * | changes      | transition, false positive, delete suppression     | analyst, supervisor                         | monitoring, incident-handling |
 * | records      | selected records                                   | analyst, supervisor (never the inspector)   | monitoring, incident-handling, investigation |
 * | indicators   | indicators                                         | analyst, supervisor, partner                | monitoring, incident-handling |
 * | operators    | operators registry                                 | analyst, supervisor, administrator          | monitoring, incident-handling, administration |
 * | metrics      | /metrics when not on loopback                      | administrator, supervisor, inspector        | administration, oversight |
 * | users        | the user registry                                  | administrator                               | administration |
 * | self         | /api/me, logout                                    | every role                                  | every purpose (the principal's own still apply) |
 * | cases        | approval cases: list, detail                       | analyst, supervisor, inspector, police, sdf | incident-handling, investigation, oversight |
 * | caseRequests | create, edit, submit a case; record an emergency measure | analyst, supervisor, police, sdf      | incident-handling, investigation |
 * | caseDecisions| approve (signs), reject, revoke                    | inspector (the commission)                  | oversight |
 * | communications | commission notifications, requests, recommendations, responses | supervisor, inspector   | incident-handling, oversight |
 * | audit        | audit search and verification                      | inspector, administrator                    | oversight, administration |
 * | retention    | retention status, deletion certificates            | supervisor, inspector, administrator        | monitoring, oversight, administration |
 * | retentionRun | run the retention job now                          | administrator                               | administration |
 * | reports      | transparency report                                | supervisor, inspector, administrator        | monitoring, oversight, administration |
 * | reidentification | request, second authorisation, sealed answer   | analyst, supervisor, police                 | investigation |
 *
 * `monitoring` stays on changes and records because the dashboard's live view (the demo analyst
 * token's default purpose) marks false positives, moves incidents and looks up one record.
 */
export const ACCESS = {
  situation: requires(
    ['analyst', 'supervisor', 'inspector', 'administrator'],
    ['monitoring', 'incident-handling', 'oversight', 'administration'],
  ),
  statistics: requires(
    ['analyst', 'supervisor', 'inspector', 'administrator'],
    ['monitoring', 'incident-handling', 'oversight', 'administration'],
  ),
  live: requires(['analyst', 'supervisor'], ['monitoring', 'incident-handling']),
  alerts: requires(['analyst', 'supervisor'], ['monitoring', 'incident-handling', 'investigation']),
  incidents: requires(
    ['analyst', 'supervisor', 'operator', 'police', 'sdf'],
    ['monitoring', 'incident-handling', 'investigation'],
  ),
  changes: requires(['analyst', 'supervisor'], ['monitoring', 'incident-handling']),
  records: requires(['analyst', 'supervisor'], ['monitoring', 'incident-handling', 'investigation']),
  indicators: requires(['analyst', 'supervisor', 'partner'], ['monitoring', 'incident-handling']),
  operators: requires(
    ['analyst', 'supervisor', 'administrator'],
    ['monitoring', 'incident-handling', 'administration'],
  ),
  metrics: requires(['administrator', 'supervisor', 'inspector'], ['administration', 'oversight']),
  users: requires(['administrator'], ['administration']),
  self: requires(ROLES, PURPOSES),
  cases: requires(
    ['analyst', 'supervisor', 'inspector', 'police', 'sdf'],
    ['incident-handling', 'investigation', 'oversight'],
  ),
  caseRequests: requires(['analyst', 'supervisor', 'police', 'sdf'], ['incident-handling', 'investigation']),
  caseDecisions: requires(['inspector'], ['oversight']),
  communications: requires(['supervisor', 'inspector'], ['incident-handling', 'oversight']),
  audit: requires(['inspector', 'administrator'], ['oversight', 'administration']),
  retention: requires(
    ['supervisor', 'inspector', 'administrator'],
    ['monitoring', 'oversight', 'administration'],
  ),
  retentionRun: requires(['administrator'], ['administration']),
  reports: requires(
    ['supervisor', 'inspector', 'administrator'],
    ['monitoring', 'oversight', 'administration'],
  ),
  reidentification: requires(['analyst', 'supervisor', 'police'], ['investigation']),
} satisfies Record<string, RouteAccess>;

/** Who asks, as far as `decideAccess` needs it. */
export interface AccessSubject {
  role: Role;
  /** Purposes this principal may act for; undefined = every purpose of its role. */
  purposes?: readonly Purpose[] | undefined;
}

/** The outcome of an access decision: granted, or refused with a reason for the 403 problem. */
export type AccessDecision = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Grants or refuses a non-public route: the role must be one of the route's, the purpose one of
 * the route's, and the purpose one the principal (its role, and its own list when it has one) may
 * act for. Pure.
 */
export function decideAccess(access: RouteAccess, subject: AccessSubject, purpose: Purpose): AccessDecision {
  if (access.public === true) return { ok: true };
  if (!access.roles.includes(subject.role))
    return { ok: false, reason: `the role ${subject.role} may not use this route` };
  if (!access.purposes.includes(purpose))
    return { ok: false, reason: `this route is not for the purpose ${purpose}` };
  const own = subject.purposes ?? ROLE_PURPOSES[subject.role];
  if (!own.includes(purpose) || !ROLE_PURPOSES[subject.role].includes(purpose))
    return { ok: false, reason: `you may not act for the purpose ${purpose}` };
  return { ok: true };
}
