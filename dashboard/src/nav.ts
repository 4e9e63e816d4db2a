/**
 * Which views a role sees in the navigation and what it may do there. Derived from the server's
 * route access table (`ACCESS` of src/serve/access.ts), so the page never offers a view whose API
 * would answer 403: inspectors see Approvals, Audit and Retention; analysts and supervisors
 * Approvals read-only; administrators Audit and Retention.
 */
import { ACCESS, type RouteAccess } from '../../src/serve/access.ts';

/** The views of the navigation bar, in order. */
export const VIEWS = ['overview', 'incidents', 'map', 'approvals', 'audit', 'retention'] as const;
/** One view. */
export type ViewId = (typeof VIEWS)[number];

/** Labels of the views. */
export const VIEW_LABELS: Readonly<Record<ViewId, string>> = {
  overview: 'Overview',
  incidents: 'Incidents',
  map: 'Map',
  approvals: 'Approvals',
  audit: 'Audit',
  retention: 'Retention',
};

/** The API group each view reads first (the one whose refusal would leave it empty). */
const VIEW_ACCESS: Readonly<Record<ViewId, RouteAccess>> = {
  overview: ACCESS.situation,
  incidents: ACCESS.incidents,
  map: ACCESS.statistics,
  approvals: ACCESS.cases,
  audit: ACCESS.audit,
  retention: ACCESS.retention,
};

/**
 * Retention status is open to supervisors (`monitoring`) by the API, but their dashboard keeps to
 * the live picture and the approvals (issue 8); the page is for the inspector and the
 * administrator.
 */
const RETENTION_ROLES: readonly string[] = ['inspector', 'administrator'];

function allows(access: RouteAccess, role: string): boolean {
  return access.public === true || (access.roles as readonly string[]).includes(role);
}

/** True when `role` gets `view` in its navigation. Unknown roles (before `/api/me`) see the analyst views. */
export function canSee(role: string | undefined, view: ViewId): boolean {
  if (role === undefined) return view === 'overview' || view === 'incidents' || view === 'map';
  if (view === 'retention') return RETENTION_ROLES.includes(role) && allows(VIEW_ACCESS.retention, role);
  return allows(VIEW_ACCESS[view], role);
}

/** The views of `role`, in navigation order. */
export function viewsFor(role: string | undefined): ViewId[] {
  return VIEWS.filter((v) => canSee(role, v));
}

/** True when `role` may approve or reject cases (the commission inspector). */
export function canDecideCases(role: string | undefined): boolean {
  return role !== undefined && allows(ACCESS.caseDecisions, role);
}

/** True when `role` receives the live event stream (`/api/events`). */
export function hasLiveStream(role: string | undefined): boolean {
  return role !== undefined && allows(ACCESS.live, role);
}
