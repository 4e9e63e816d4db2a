import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertOf, flowRecord, incidentOf, T0 } from '../store/testing.ts';
import { defaultServeConfig, type ServeConfig } from './config.ts';
import { DEMO_TOKEN_ENV, createTokenAuth, demoTokenEntry } from './auth.ts';
import { createServer, isLoopbackHost, type ApiServer } from './server.ts';
import { testDeps, tokenOf } from './testing.ts';
import { expectDeniedWithoutToken, expectRolesAndPurposesEnforced } from './access-testing.ts';
import type { ServeDeps } from './types.ts';

const analyst = { authorization: `Bearer ${tokenOf('analyst')}` };

function make(opts: { config?: Partial<ServeConfig>; ready?: boolean; dashboardDir?: string } = {}): {
  server: ApiServer;
  deps: ReturnType<typeof testDeps>;
} {
  const deps = testDeps({
    ...(opts.ready !== undefined ? { ready: opts.ready } : {}),
    ...(opts.dashboardDir !== undefined ? { dashboardDir: opts.dashboardDir } : {}),
  });
  const server = createServer(deps, defaultServeConfig({ port: 0, ...opts.config }));
  return { server, deps };
}

async function seed(deps: ServeDeps): Promise<void> {
  await deps.store.open();
  await deps.store.appendRecords(
    Array.from({ length: 30 }, (_, i) =>
      flowRecord({ t: T0 + i * 1000, index: i, dstPort: i % 2 ? 443 : 22 }),
    ),
  );
  await deps.store.upsertAlerts([
    alertOf('al-1', { firstSeen: T0, incidentId: 'in-1' }),
    alertOf('al-2', { firstSeen: T0 + 60_000, detector: 'ddos', severity: 'high', incidentId: 'in-1' }),
  ]);
  await deps.store.upsertIncidents([
    incidentOf('in-1', { firstSeen: T0, lastSeen: T0 + 120_000, alerts: ['al-1', 'al-2'] }),
    incidentOf('in-2', { firstSeen: T0, lastSeen: T0 + 60_000, state: 'closed' }),
  ]);
}

describe('serve: the HTTP API (in process)', () => {
  let server: ApiServer;
  let deps: ReturnType<typeof testDeps>;

  beforeEach(async () => {
    ({ server, deps } = make());
    await seed(deps);
  });
  afterEach(async () => {
    await server.stop();
    await deps.store.close();
  });

  describe('access', () => {
    it('declares access on every route and answers 401 without a token on every non-public one', async () => {
      expect(await expectDeniedWithoutToken(server)).toBeGreaterThan(20);
    });

    it('enforces every route’s roles and purposes: 403 for a wrong role and for the right role with a wrong purpose, allowed for the right pair', async () => {
      expect(await expectRolesAndPurposesEnforced(server)).toBeGreaterThan(20);
    });

    it('keeps the commission inspector away from selected records and live incidents, but shows it statistics', async () => {
      const inspector = { authorization: `Bearer ${tokenOf('inspector')}` };
      const from = new Date(T0).toISOString();
      const to = new Date(T0 + 60_000).toISOString();
      expect(
        (await server.app.inject({ url: `/api/records?from=${from}&to=${to}`, headers: inspector }))
          .statusCode,
      ).toBe(403);
      expect((await server.app.inject({ url: '/api/incidents', headers: inspector })).statusCode).toBe(403);
      expect(
        (await server.app.inject({ url: '/api/stats/top?dimension=detector', headers: inspector }))
          .statusCode,
      ).toBe(200);
      expect((await server.app.inject({ url: '/api/overview', headers: inspector })).statusCode).toBe(200);
    });

    it('shows an operator only the incidents of its own organisation', async () => {
      await deps.store.upsertIncidents([
        incidentOf('in-op', { firstSeen: T0, lastSeen: T0 + 1000, operators: ['operator-org-1'] }),
      ]);
      const operator = { authorization: `Bearer ${tokenOf('operator')}` };
      const list = await server.app.inject({ url: '/api/incidents', headers: operator });
      expect(list.statusCode).toBe(200);
      expect(list.json<{ items: { id: string }[] }>().items.map((i) => i.id)).toEqual(['in-op']);
      expect((await server.app.inject({ url: '/api/incidents/in-op', headers: operator })).statusCode).toBe(
        200,
      );
      expect((await server.app.inject({ url: '/api/incidents/in-1', headers: operator })).statusCode).toBe(
        404,
      );
      const other = await server.app.inject({ url: '/api/incidents?operator=op-other', headers: operator });
      expect(other.statusCode).toBe(403);
      expect((await server.app.inject({ url: '/api/alerts', headers: operator })).statusCode).toBe(403);
    });

    it('keeps the demo analyst token working for the dashboard’s routes with its default purpose', async () => {
      const { entry } = demoTokenEntry({ [DEMO_TOKEN_ENV]: 'demo-token-0123456789abcdef' });
      const other = createServer(
        { ...deps, auth: createTokenAuth([entry]) },
        defaultServeConfig({ port: 0 }),
      );
      const h = { authorization: 'Bearer demo-token-0123456789abcdef' };
      const from = new Date(T0).toISOString();
      for (const url of [
        '/api/me',
        '/api/overview',
        '/api/incidents',
        '/api/alerts',
        '/api/stats/series',
        '/api/stats/top?dimension=sourceCountry',
        '/api/operators',
        '/api/indicators',
        `/api/records?from=${from}&to=${from}`,
      ]) {
        const res = await other.app.inject({ url, headers: h });
        expect(res.statusCode, url).toBe(200);
      }
      const fp = await other.app.inject({
        method: 'POST',
        url: '/api/alerts/none/false-positive',
        headers: h,
        payload: { reason: 'ours' },
      });
      expect(fp.statusCode).toBe(404); // authorised; the alert does not exist
      await other.stop();
    });

    it('answers 401 with a bad token and with a non-bearer scheme', async () => {
      for (const authorization of [
        'Bearer not-a-known-token-000000',
        `Basic ${tokenOf('analyst')}`,
        'Bearer',
      ]) {
        const res = await server.app.inject({ url: '/api/me', headers: { authorization } });
        expect(res.statusCode).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer realm="acd"');
      }
    });

    it('records the purpose from X-ACD-Purpose, or the token default, and refuses unknown purposes', async () => {
      let res = await server.app.inject({ url: '/api/me', headers: analyst });
      expect(res.json()).toEqual({ user: 'analyst-1', role: 'analyst', purpose: 'monitoring' });
      res = await server.app.inject({
        url: '/api/me',
        headers: { ...analyst, 'x-acd-purpose': 'incident-handling' },
      });
      expect(res.json()).toMatchObject({ purpose: 'incident-handling' });
      res = await server.app.inject({
        url: '/api/me',
        headers: { ...analyst, 'x-acd-purpose': 'curiosity' },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'ERR_VALIDATION' });
    });
  });

  describe('public routes', () => {
    it('/healthz and /readyz', async () => {
      expect((await server.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
      const ready = await server.app.inject('/readyz');
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ status: 'ready', checks: { store: true, bus: true } });
    });

    it('/readyz answers 503 while a dependency is not ready', async () => {
      const other = make({ ready: false });
      const res = await other.server.app.inject('/readyz');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'starting', checks: { store: false, bus: false } });
      await other.server.stop();
    });

    it('/metrics renders every counter of the registry, including the serve counters', async () => {
      deps.metrics.counter('centre_records', 'Records.').inc(7);
      await server.app.inject({ url: '/api/me' }); // a 401 to count
      const res = await server.app.inject('/metrics');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/plain');
      expect(res.body).toContain('acd_centre_records_total 7');
      expect(res.body).toMatch(/acd_serve_auth_failures_total 1/);
      expect(res.body).toMatch(/acd_serve_problems_total\{code="ERR_UNAUTHORISED"\} 1/);
    });

    it('/metrics needs a token when the server is not bound to loopback', async () => {
      const other = make({ config: { host: '0.0.0.0', tlsCert: '/x', tlsKey: '/y' } });
      expect((await other.server.app.inject('/metrics')).statusCode).toBe(401);
      const ok = await other.server.app.inject({
        url: '/metrics',
        headers: { authorization: `Bearer ${tokenOf('administrator')}` },
      });
      expect(ok.statusCode).toBe(200);
      await other.server.stop();
    });

    it('/api/openapi.json documents every API route with its parameters, and /api/docs is a page', async () => {
      const res = await server.app.inject('/api/openapi.json');
      expect(res.statusCode).toBe(200);
      const doc = res.json<{
        openapi: string;
        paths: Record<string, Record<string, { parameters?: { name: string }[] }>>;
      }>();
      expect(doc.openapi).toBe('3.1.0');
      for (const p of [
        '/api/overview',
        '/api/providers',
        '/api/feeds',
        '/api/records',
        '/api/alerts',
        '/api/alerts/{id}',
        '/api/alerts/{id}/false-positive',
        '/api/incidents',
        '/api/incidents/{id}',
        '/api/incidents/{id}/transition',
        '/api/suppressions',
        '/api/suppressions/{id}',
        '/api/indicators',
        '/api/operators',
        '/api/stats/series',
        '/api/stats/top',
        '/api/events',
        '/api/me',
        '/healthz',
        '/readyz',
      ])
        expect(doc.paths[p], p).toBeDefined();
      expect(doc.paths['/api/records']?.get?.parameters?.map((x) => x.name)).toEqual(
        expect.arrayContaining(['from', 'to', 'limit', 'cursor', 'address', 'port', 'qname']),
      );
      const page = await server.app.inject('/api/docs');
      const html = page.statusCode === 302 ? await server.app.inject(String(page.headers.location)) : page;
      expect(html.statusCode).toBe(200);
      const docsPage = await server.app.inject('/api/docs/');
      expect(docsPage.body).toContain('swagger-ui-bundle.js');
      const asset = await server.app.inject('/api/docs/static/swagger-ui-bundle.js');
      expect(asset.statusCode).toBe(200);
    });

    it('/ says the dashboard is not built when there is none', async () => {
      const res = await server.app.inject('/');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.body).toContain('not built');
    });
  });

  describe('security headers and limits', () => {
    it('sends a strict CSP (own scripts and styles, no inline scripts) and the usual headers', async () => {
      const res = await server.app.inject('/');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['strict-transport-security']).toBeUndefined(); // plain HTTP on loopback
    });

    it('refuses bodies over the limit with 413', async () => {
      const { server: small, deps: d } = make({ config: { bodyLimitBytes: 1024 } });
      await seed(d);
      const res = await small.app.inject({
        method: 'POST',
        url: '/api/alerts/al-1/false-positive',
        headers: analyst,
        payload: { reason: 'x'.repeat(2000) },
      });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toMatchObject({ code: 'ERR_PAYLOAD_TOO_LARGE' });
      await small.stop();
    });

    it('rate-limits per token with 429 and Retry-After', async () => {
      const { server: limited } = make({ config: { rateLimit: { max: 3, window: 60_000 } } });
      const codes: number[] = [];
      for (let i = 0; i < 5; i++)
        codes.push((await limited.app.inject({ url: '/api/me', headers: analyst })).statusCode);
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      const res = await limited.app.inject({ url: '/api/me', headers: analyst });
      expect(res.json()).toMatchObject({ status: 429, code: 'ERR_RATE_LIMITED' });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      // Another token has its own budget.
      const other = await limited.app.inject({
        url: '/api/me',
        headers: { authorization: `Bearer ${tokenOf('supervisor')}` },
      });
      expect(other.statusCode).toBe(200);
      await limited.stop();
    });

    it('answers unknown paths with a 404 problem', async () => {
      const res = await server.app.inject({ url: '/api/nothing-here?address=10.0.0.1', headers: analyst });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({
        type: 'urn:acd:problem:ERR_NOT_FOUND',
        title: 'Not Found',
        status: 404,
        detail: expect.any(String) as string,
        code: 'ERR_NOT_FOUND',
        instance: '/api/nothing-here',
      });
    });

    it('answers 500 without internals when a dependency fails unexpectedly', async () => {
      deps.live.overview = () => {
        throw new TypeError('secret internal detail at /srv/acd');
      };
      const res = await server.app.inject({ url: '/api/overview', headers: analyst });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toMatchObject({ code: 'ERR_INTERNAL', detail: 'internal error' });
      expect(res.body).not.toContain('secret');
    });
  });

  describe('situation', () => {
    it('/api/overview: the live view with ISO times and the server clock', async () => {
      const res = await server.app.inject({ url: '/api/overview', headers: analyst });
      expect(res.statusCode).toBe(200);
      const o = res.json<Record<string, unknown>>();
      expect(o.now).toBe('2026-01-01T01:00:00.000Z');
      expect(o.watermark).toBe('2026-01-01T00:10:00.000Z');
      expect(o).toMatchObject({
        totals: { records: 1200, selectionRatio: 0.6 },
        providers: [{ id: 'prov-a', exporters: [{ lastSeen: '2026-01-01T00:10:00.000Z', templates: 2 }] }],
        incidentsByState: { new: 1 },
        detectors: [{ name: 'scan', lastAlertAt: null }],
      });
    });

    it('/api/providers, /api/feeds, /api/indicators', async () => {
      const p = await server.app.inject({ url: '/api/providers', headers: analyst });
      expect(p.json<{ items: unknown[] }>().items).toHaveLength(1);
      const f = await server.app.inject({ url: '/api/feeds', headers: analyst });
      expect(f.json()).toEqual({
        items: [
          {
            id: 'feed-a',
            providerId: 'prov-a',
            channel: 'transit-foreign-to-foreign',
            approvalId: 'ap-1',
            records: 9,
          },
        ],
      });
      const i = await server.app.inject({ url: '/api/indicators', headers: analyst });
      expect(i.json()).toEqual({
        items: [{ value: '198.51.100.7', type: 'ipv4', validUntil: null, source: 'demo', confidence: 0.9 }],
      });
    });

    it('/api/operators without contacts', async () => {
      await deps.store.putOperators({
        schema: 'acd.operators/1',
        domesticCountry: 'NL',
        providers: [{ id: 'prov-a', name: 'A', asn: 64_500 }],
        operators: [
          {
            id: 'op-water',
            name: 'Water',
            sector: 'water',
            providerId: 'prov-a',
            ranges: [{ prefix: '10.1.0.0/16', pseudonymisationWaived: false }],
            domains: ['water.example'],
            importantSystems: [],
            contacts: [{ role: 'security', name: 'Ann', email: 'ann@water.example' }],
            agreement: { status: 'active', id: 'ag-1' },
          },
        ],
      });
      const res = await server.app.inject({ url: '/api/operators', headers: analyst });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        items: [
          {
            id: 'op-water',
            name: 'Water',
            sector: 'water',
            providerId: 'prov-a',
            ranges: [{ prefix: '10.1.0.0/16', pseudonymisationWaived: false }],
            domains: ['water.example'],
            agreement: { status: 'active', id: 'ag-1' },
          },
        ],
      });
      expect(res.body).not.toContain('ann@');
    });
  });

  describe('records', () => {
    it('pages through a time range, newest first, times as ISO', async () => {
      const url = `/api/records?from=${T0}&to=2026-01-01T00:01:00Z&limit=20`;
      const first = await server.app.inject({ url, headers: analyst });
      expect(first.statusCode).toBe(200);
      const page = first.json<{
        items: { recordId: string; fields: Record<string, unknown>; provenance: Record<string, unknown> }[];
        next: string | null;
      }>();
      expect(page.items).toHaveLength(20);
      expect(page.next).toEqual(expect.any(String));
      expect(page.items[0]?.provenance.retainUntil).toMatch(/Z$/);
      const second = await server.app.inject({
        url: `${url}&cursor=${encodeURIComponent(page.next ?? '')}`,
        headers: analyst,
      });
      const rest = second.json<{ items: { recordId: string }[]; next: string | null }>();
      expect(rest.items).toHaveLength(10);
      expect(rest.next).toBeNull();
      const ids = new Set([...page.items, ...rest.items].map((r) => r.recordId));
      expect(ids.size).toBe(30);
    });

    it('filters by port', async () => {
      const res = await server.app.inject({
        url: `/api/records?from=${T0}&to=${T0 + 60_000}&port=22`,
        headers: analyst,
      });
      expect(res.json<{ items: unknown[] }>().items).toHaveLength(15);
    });

    it('requires the time range (400) and refuses bad times, reversed ranges and bad cursors', async () => {
      for (const url of [
        '/api/records',
        `/api/records?from=${T0}`,
        '/api/records?from=yesterday&to=today',
        '/api/records?from=2026-01-01T00:00:00&to=2026-01-02T00:00:00', // no zone: ambiguous
        `/api/records?from=${T0 + 10}&to=${T0}`,
        `/api/records?from=${T0}&to=${T0 + 1}&cursor=forged`,
        `/api/records?from=${T0}&to=${T0 + 1}&port=70000`,
      ]) {
        const res = await server.app.inject({ url, headers: analyst });
        expect(res.statusCode, url).toBe(400);
        expect(res.json<{ code: string }>().code, url).toMatch(/^ERR_(VALIDATION|STORE_BAD_CURSOR)$/);
      }
    });

    it('clamps limit to 1000', async () => {
      const res = await server.app.inject({
        url: `/api/records?from=${T0}&to=${T0 + 60_000}&limit=5000`,
        headers: analyst,
      });
      expect(res.statusCode).toBe(200);
      expect(res.json<{ items: unknown[] }>().items).toHaveLength(30);
      const zero = await server.app.inject({
        url: `/api/records?from=${T0}&to=${T0 + 1}&limit=0`,
        headers: analyst,
      });
      expect(zero.statusCode).toBe(400);
    });
  });

  describe('alerts', () => {
    it('lists newest first with filters and returns one alert with its evidence chain', async () => {
      const all = await server.app.inject({ url: '/api/alerts', headers: analyst });
      expect(all.json<{ items: { id: string }[] }>().items.map((a) => a.id)).toEqual(['al-2', 'al-1']);
      const high = await server.app.inject({ url: '/api/alerts?severity=high', headers: analyst });
      expect(high.json<{ items: { id: string }[] }>().items.map((a) => a.id)).toEqual(['al-2']);
      const one = await server.app.inject({ url: '/api/alerts/al-1', headers: analyst });
      expect(one.json()).toMatchObject({
        id: 'al-1',
        firstSeen: '2026-01-01T00:00:00.000Z',
        evidence: [
          {
            detector: 'scan',
            window: { start: '2026-01-01T00:00:00.000Z', end: '2026-01-01T00:01:00.000Z' },
          },
        ],
      });
    });

    it('404 for an unknown alert; 400 for an unknown detector', async () => {
      const res = await server.app.inject({ url: '/api/alerts/nope', headers: analyst });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'ERR_NOT_FOUND', instance: '/api/alerts/nope' });
      expect(
        (await server.app.inject({ url: '/api/alerts?detector=magic', headers: analyst })).statusCode,
      ).toBe(400);
    });

    it('marks a false positive: 201 with the created rule, listed under suppressions, deletable once', async () => {
      const res = await server.app.inject({
        method: 'POST',
        url: '/api/alerts/al-1/false-positive',
        headers: analyst,
        payload: { reason: 'our own vulnerability scanner' },
      });
      expect(res.statusCode).toBe(201);
      const { rule } = res.json<{ rule: { id: string; createdBy: string; createdAt: string } }>();
      expect(rule).toMatchObject({ createdBy: 'analyst-1', createdAt: '2026-01-01T01:00:00.000Z' });
      const list = await server.app.inject({ url: '/api/suppressions', headers: analyst });
      expect(list.json<{ items: { id: string }[] }>().items.map((r) => r.id)).toEqual([rule.id]);
      const del = await server.app.inject({
        method: 'DELETE',
        url: `/api/suppressions/${rule.id}`,
        headers: analyst,
      });
      expect(del.statusCode).toBe(204);
      expect(del.body).toBe('');
      const again = await server.app.inject({
        method: 'DELETE',
        url: `/api/suppressions/${rule.id}`,
        headers: analyst,
      });
      expect(again.statusCode).toBe(404);
    });

    it('refuses a false positive without a reason (400) or for an unknown alert (404)', async () => {
      const noReason = await server.app.inject({
        method: 'POST',
        url: '/api/alerts/al-1/false-positive',
        headers: analyst,
        payload: {},
      });
      expect(noReason.statusCode).toBe(400);
      const unknown = await server.app.inject({
        method: 'POST',
        url: '/api/alerts/zz/false-positive',
        headers: analyst,
        payload: { reason: 'x' },
      });
      expect(unknown.statusCode).toBe(404);
    });
  });

  describe('incidents', () => {
    it('lists newest first with the item fields only', async () => {
      const res = await server.app.inject({ url: '/api/incidents?limit=1', headers: analyst });
      const page = res.json<{ items: Record<string, unknown>[]; next: string | null }>();
      expect(page.items).toHaveLength(1);
      expect(Object.keys(page.items[0] ?? {}).sort()).toEqual(
        [
          'campaign',
          'detectors',
          'firstSeen',
          'id',
          'lastSeen',
          'operators',
          'score',
          'sectors',
          'severity',
          'state',
          'subjects',
          'summary',
        ].sort(),
      );
      expect(page.items[0]?.id).toBe('in-1');
      const next = await server.app.inject({
        url: `/api/incidents?limit=1&cursor=${encodeURIComponent(page.next ?? '')}`,
        headers: analyst,
      });
      expect(next.json<{ items: { id: string }[] }>().items.map((i) => i.id)).toEqual(['in-2']);
      const closed = await server.app.inject({ url: '/api/incidents?state=closed', headers: analyst });
      expect(closed.json<{ items: { id: string }[] }>().items.map((i) => i.id)).toEqual(['in-2']);
    });

    it('returns an incident with its alerts and evidence', async () => {
      const res = await server.app.inject({ url: '/api/incidents/in-1', headers: analyst });
      expect(res.statusCode).toBe(200);
      const d = res.json<{
        incident: { id: string; history: { at: string }[] };
        alerts: { id: string; evidence: unknown[] }[];
      }>();
      expect(d.incident.id).toBe('in-1');
      expect(d.incident.history[0]?.at).toBe('2026-01-01T00:00:00.000Z');
      expect(d.alerts.map((a) => a.id)).toEqual(['al-1', 'al-2']);
      expect(d.alerts[0]?.evidence).toHaveLength(1);
      expect((await server.app.inject({ url: '/api/incidents/none', headers: analyst })).statusCode).toBe(
        404,
      );
    });

    it('transitions forward (200) and answers 409 for an illegal transition', async () => {
      const ok = await server.app.inject({
        method: 'POST',
        url: '/api/incidents/in-1/transition',
        headers: analyst,
        payload: { to: 'triaged', reason: 'looked at it' },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toMatchObject({ incident: { id: 'in-1', state: 'triaged' } });
      const back = await server.app.inject({
        method: 'POST',
        url: '/api/incidents/in-1/transition',
        headers: analyst,
        payload: { to: 'new', reason: 'oops' },
      });
      expect(back.statusCode).toBe(409);
      expect(back.json()).toMatchObject({ status: 409, code: 'ERR_INCIDENT_TRANSITION', title: 'Conflict' });
      const bad = await server.app.inject({
        method: 'POST',
        url: '/api/incidents/in-1/transition',
        headers: analyst,
        payload: { to: 'sideways', reason: 'x' },
      });
      expect(bad.statusCode).toBe(400);
    });
  });

  describe('statistics', () => {
    it('/api/stats/series: per-provider minute buckets with ISO times', async () => {
      const res = await server.app.inject({
        url: `/api/stats/series?step=1m&from=${T0}&to=${T0 + 120_000}`,
        headers: analyst,
      });
      expect(res.statusCode).toBe(200);
      const s = res.json<{ step: string; items: { t: string; providerId: string; records: number }[] }>();
      expect(s.step).toBe('1m');
      const records = s.items.filter((p) => p.providerId === 'prov-a').reduce((n, p) => n + p.records, 0);
      expect(records).toBe(30);
      expect(s.items[0]?.t).toBe('2026-01-01T00:00:00.000Z');
    });

    it('/api/stats/series refuses a range of too many buckets', async () => {
      const res = await server.app.inject({
        url: `/api/stats/series?step=1m&from=${T0}&to=${T0 + 30 * 86_400_000}`,
        headers: analyst,
      });
      expect(res.statusCode).toBe(400);
    });

    it('/api/stats/top ranks by dimension and needs a known dimension', async () => {
      const res = await server.app.inject({
        url: `/api/stats/top?dimension=destinationPort&from=${T0}&to=${T0 + 60_000}&limit=5`,
        headers: analyst,
      });
      expect(res.statusCode).toBe(200);
      const top = res.json<{ dimension: string; items: { key: string; count: number }[] }>();
      expect(top.dimension).toBe('destinationPort');
      expect(top.items.map((e) => [e.key, e.count])).toEqual([
        ['22', 15],
        ['443', 15],
      ]);
      expect(
        (await server.app.inject({ url: '/api/stats/top?dimension=colour', headers: analyst })).statusCode,
      ).toBe(400);
      expect((await server.app.inject({ url: '/api/stats/top', headers: analyst })).statusCode).toBe(400);
    });
  });
});

describe('serve: dashboard files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'acd-serve-dash-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><title>acd dashboard</title><script type="module" src="/assets/app.js"></script>',
    );
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1);');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the built dashboard at / and its assets without a token', async () => {
    const { server } = make({ dashboardDir: dir });
    const page = await server.app.inject('/');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('acd dashboard');
    const asset = await server.app.inject('/assets/app.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toContain('javascript');
    const missing = await server.app.inject('/assets/none.js');
    expect(missing.statusCode).toBe(404);
    // The API is still behind its tokens.
    expect((await server.app.inject('/api/overview')).statusCode).toBe(401);
    await server.stop();
  });
});

describe('serve: isLoopbackHost', () => {
  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost'])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.0.2.1', 'example.org', '128.0.0.1'])
      expect(isLoopbackHost(h), h).toBe(false);
  });
});
