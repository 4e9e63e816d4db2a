/**
 * The access-control proof of issue 8 (R-OVS-1) as reusable checks: every route of a server
 * declares its access, answers 401 without a token, 403 for a role it does not name and for a
 * purpose it is not for, and lets the right role acting for the right purpose through. Used by
 * the API server's tests and by the centre's oversight wiring test (which adds the oversight
 * modules' routes). Not used by production code.
 */
import { expect } from 'vitest';
import { PURPOSES, ROLES, ROLE_PURPOSES, type Purpose, type Role } from './access.ts';
import type { ApiServer } from './server.ts';
import { tokenOf } from './testing.ts';

/** The public routes of issue 7 (the docs page brings its own static assets). */
const PUBLIC_URLS = ['/healthz', '/readyz', '/metrics', '/api/openapi.json', '/', '/api/session/login'];

/** A URL of the route with its parameters filled in. */
function urlOf(route: string): string {
  return (
    route.replace(/:[A-Za-z]+/g, 'x') + (route === '/api/events' ? `?lastEventId=${'9'.repeat(30)}` : '')
  );
}

/**
 * Every route declares access and answers 401 (problem+json) without a token unless public; the
 * public ones are exactly those of issue 7. Returns the routes checked.
 */
export async function expectDeniedWithoutToken(server: ApiServer): Promise<number> {
  await server.app.ready();
  const routes = server.routes();
  const publicUrls = new Set<string>();
  for (const r of routes) {
    expect(r.access, `${r.method} ${r.url} declares access`).toBeDefined();
    if (r.access?.public === true) {
      publicUrls.add(r.url);
      continue;
    }
    expect(r.access?.roles.length, `${r.url} roles`).toBeGreaterThan(0);
    expect(r.access?.purposes.length, `${r.url} purposes`).toBeGreaterThan(0);
    const res = await server.app.inject({ method: r.method as 'GET', url: urlOf(r.url) });
    expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
    expect(res.headers['content-type']).toContain('application/problem+json');
    if (r.method !== 'HEAD') expect(res.json()).toMatchObject({ status: 401, code: 'ERR_UNAUTHORISED' });
  }
  const unexpected = [...publicUrls].filter((u) => !PUBLIC_URLS.includes(u) && !u.startsWith('/api/docs'));
  expect(unexpected).toEqual([]);
  return routes.length;
}

/**
 * Every non-public route: 403 for each role it does not name, 403 for the right role with a
 * purpose the route is not for or the principal may not act for, and neither 401 nor 403 for the
 * right pair. The test tokens are those of `testDeps` (`tokenOf`). Returns the routes checked.
 */
export async function expectRolesAndPurposesEnforced(server: ApiServer): Promise<number> {
  await server.app.ready();
  let checked = 0;
  for (const r of server.routes()) {
    if (r.access === undefined || r.access.public === true) continue;
    const access = r.access;
    // Past authentication and authorisation every route answers something other than 401/403;
    // the event stream gets a parameter it refuses (400) so the request ends.
    const url = urlOf(r.url);
    const call = (role: Role, purpose: Purpose) =>
      server.app.inject({
        method: r.method as 'GET',
        url,
        headers: { authorization: `Bearer ${tokenOf(role)}`, 'x-acd-purpose': purpose },
      });
    const what = `${r.method} ${r.url}`;

    // The right pair: a role of the route acting for a purpose of the route that it may act for.
    const right = access.roles
      .flatMap((role) =>
        ROLE_PURPOSES[role].filter((p) => access.purposes.includes(p)).map((p) => [role, p] as const),
      )
      .at(0);
    expect(right, `${what}: someone may use it`).toBeDefined();
    if (right === undefined) continue;
    const ok = await call(right[0], right[1]);
    expect([401, 403], `${what} as ${right[0]} for ${right[1]}: ${ok.body}`).not.toContain(ok.statusCode);

    // A role the route does not name, acting for a purpose the route and that role both allow
    // where there is one (so the role alone is refused).
    for (const role of ROLES.filter((x) => !access.roles.includes(x))) {
      const purpose =
        ROLE_PURPOSES[role].find((p) => access.purposes.includes(p)) ??
        ROLE_PURPOSES[role][0] ??
        'monitoring';
      const res = await call(role, purpose);
      expect(res.statusCode, `${what} as ${role} for ${purpose}`).toBe(403);
      if (r.method !== 'HEAD') expect(res.json()).toMatchObject({ code: 'ERR_FORBIDDEN' });
    }

    // The right role with a purpose the route is not for.
    for (const purpose of PURPOSES.filter((p) => !access.purposes.includes(p))) {
      const res = await call(right[0], purpose);
      expect(res.statusCode, `${what} as ${right[0]} for ${purpose}`).toBe(403);
    }
    // The right role with a purpose the route allows but the principal may not act for.
    for (const purpose of access.purposes.filter((p) => !ROLE_PURPOSES[right[0]].includes(p))) {
      const res = await call(right[0], purpose);
      expect(res.statusCode, `${what} as ${right[0]} for ${purpose} (not its purpose)`).toBe(403);
      if (r.method !== 'HEAD') expect(res.json<{ detail: string }>().detail).toContain('may not act for');
    }
    checked++;
  }
  return checked;
}
