import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shippedLegalParameters } from '../../common/legal/index.ts';
import { verifyApproval } from '../../common/schema/approval.ts';
import { resolveTrustedKey, SigningKey, TrustedKeySet } from '../../common/signing/index.ts';
import type { Role } from '../../serve/access.ts';
import { defaultServeConfig } from '../../serve/config.ts';
import { createServer, type ApiServer } from '../../serve/server.ts';
import { testDeps, tokenOf } from '../../serve/testing.ts';
import { casesPlugin } from './routes.ts';
import { createCaseService, type CaseService } from './service.ts';

const DAY = 86_400_000;

function as(role: Role, purpose?: string): Record<string, string> {
  return {
    authorization: `Bearer ${tokenOf(role)}`,
    ...(purpose !== undefined ? { 'x-acd-purpose': purpose } : {}),
  };
}
const analyst = as('analyst', 'investigation');
const inspector = as('inspector');
const supervisor = as('supervisor', 'incident-handling');

describe('cases API', () => {
  let server: ApiServer;
  let deps: ReturnType<typeof testDeps>;
  let service: CaseService;
  let key: SigningKey;
  let published: string[];
  let T: number;

  beforeEach(async () => {
    key = SigningKey.generate();
    published = [];
    deps = testDeps();
    T = deps.clock.now();
    service = createCaseService({
      store: deps.store,
      clock: deps.clock,
      legal: shippedLegalParameters(),
      keys: { commissionKey: () => Promise.resolve(key) },
      publish: (target) => {
        published.push(target);
        return Promise.resolve();
      },
    });
    deps.plugins = [casesPlugin(service)];
    await deps.store.open();
    server = createServer(deps, defaultServeConfig({ port: 0 }));
    await server.app.ready();
  });
  afterEach(async () => {
    await server.stop();
    await deps.store.close();
  });

  const body = (over: Record<string, unknown> = {}) => ({
    kind: 'acquisition',
    title: 'C2 servers',
    justification: 'Beaconing to C2 abroad.',
    channel: 'specified-foreign-to-domestic',
    providers: ['prov-a'],
    targetActs: ['c2-communication'],
    targets: ['198.51.100.0/24'],
    selectors: [{ id: 's1', kind: 'all-channel-traffic' }],
    validFrom: new Date(T).toISOString(),
    validUntil: new Date(T + 30 * DAY).toISOString(),
    ...over,
  });

  async function created(over: Record<string, unknown> = {}): Promise<string> {
    const r = await server.app.inject({
      method: 'POST',
      url: '/api/cases',
      headers: analyst,
      payload: body(over),
    });
    expect(r.statusCode, r.body).toBe(201);
    return r.json<{ id: string }>().id;
  }

  it('runs a case through the API with ISO times and the item shape of the dashboard', async () => {
    const id = await created();
    const get = await server.app.inject({ method: 'GET', url: `/api/cases/${id}`, headers: inspector });
    expect(get.statusCode).toBe(200);
    const item = get.json<Record<string, unknown>>();
    expect(Object.keys(item).sort()).toEqual([
      'case',
      'createdAt',
      'id',
      'overdue',
      'recordKind',
      'state',
      'updatedAt',
    ]);
    expect(item).toMatchObject({
      id,
      recordKind: 'approval-case',
      state: 'draft',
      overdue: false,
      createdAt: new Date(T).toISOString(),
      case: {
        format: 'acd.approval-case/1',
        kind: 'acquisition',
        requester: 'analyst-1',
        validFrom: new Date(T).toISOString(),
        validUntil: new Date(T + 30 * DAY).toISOString(),
        history: [{ at: new Date(T).toISOString(), from: null, to: 'draft' }],
      },
    });
    const patched = await server.app.inject({
      method: 'PATCH',
      url: `/api/cases/${id}`,
      headers: analyst,
      payload: { title: 'C2 servers of campaign X', feeds: ['feed-a'] },
    });
    expect(patched.json()).toMatchObject({ case: { title: 'C2 servers of campaign X', feeds: ['feed-a'] } });
    const sub = await server.app.inject({ method: 'POST', url: `/api/cases/${id}/submit`, headers: analyst });
    expect(sub.json()).toMatchObject({ state: 'submitted' });
    deps.clock.advance(60_000);
    const ap = await server.app.inject({
      method: 'POST',
      url: `/api/cases/${id}/approve`,
      headers: inspector,
      payload: { reason: 'necessary' },
    });
    expect(ap.statusCode).toBe(200);
    const approved = ap.json<{
      state: string;
      case: { signedApproval: unknown; decision: { at: string } };
    }>();
    expect(approved.state).toBe('approved');
    expect(approved.case.decision.at).toBe(new Date(T + 60_000).toISOString());
    // The signed document survives the response serialisation byte for byte: it still verifies.
    const trust = new TrustedKeySet([
      resolveTrustedKey({
        publicKey: key.publicKey,
        signer: 'commission',
        validFrom: '2020-01-01T00:00:00.000Z',
        validUntil: '2100-01-01T00:00:00.000Z',
        scopes: ['approval'],
      }),
    ]);
    expect(verifyApproval(approved.case.signedApproval, trust, deps.clock.now()).ok).toBe(true);
    expect(published).toEqual(['prov-a']);
    const rv = await server.app.inject({
      method: 'POST',
      url: `/api/cases/${id}/revoke`,
      headers: inspector,
      payload: { reason: 'over' },
    });
    expect(rv.json()).toMatchObject({
      state: 'revoked',
      case: { signedRevocation: { payload: { revokes: `ap-${id}` } } },
    });
  });

  it('answers an illegal transition with 409 ERR_CASE_TRANSITION and bad input with 400', async () => {
    const id = await created();
    const ap = await server.app.inject({
      method: 'POST',
      url: `/api/cases/${id}/approve`,
      headers: inspector,
      payload: { reason: 'too early' },
    });
    expect(ap.statusCode).toBe(409);
    expect(ap.json()).toMatchObject({ code: 'ERR_CASE_TRANSITION', status: 409 });
    const tooLong = await server.app.inject({
      method: 'POST',
      url: '/api/cases',
      headers: analyst,
      payload: body({ validUntil: new Date(T + 181 * DAY).toISOString() }),
    });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json()).toMatchObject({ code: 'ERR_VALIDATION' });
    for (const bad of [
      body({ kind: 'nope' }),
      body({ selectors: [{ id: 's1', kind: 'magic' }] }),
      body({ validFrom: 'yesterday' }),
      body({ channel: undefined }),
    ]) {
      const r = await server.app.inject({
        method: 'POST',
        url: '/api/cases',
        headers: analyst,
        payload: bad,
      });
      expect(r.statusCode, JSON.stringify(bad)).toBe(400);
    }
    const noReason = await server.app.inject({
      method: 'POST',
      url: `/api/cases/${id}/reject`,
      headers: inspector,
      payload: {},
    });
    expect(noReason.statusCode).toBe(400);
    const missing = await server.app.inject({
      method: 'GET',
      url: '/api/cases/case-404',
      headers: inspector,
    });
    expect(missing.statusCode).toBe(404);
  });

  it('enforces the access groups: requesters request, only the commission decides', async () => {
    const id = await created();
    const cases: [string, string, Record<string, string>, number][] = [
      ['POST', `/api/cases/${id}/submit`, inspector, 403],
      ['POST', '/api/cases', as('inspector'), 403],
      ['POST', `/api/cases/${id}/approve`, analyst, 403],
      ['POST', `/api/cases/${id}/approve`, supervisor, 403],
      ['GET', '/api/cases', as('operator'), 403],
      ['GET', '/api/cases', as('administrator'), 403],
      ['GET', '/api/cases', as('analyst', 'monitoring'), 403],
      ['GET', '/api/cases', {}, 401],
      ['GET', '/api/communications', analyst, 403],
      ['POST', '/api/communications', as('police', 'investigation'), 403],
      ['GET', '/api/cases', as('police', 'investigation'), 200],
      ['GET', '/api/cases/overdue', as('sdf', 'incident-handling'), 200],
      ['GET', '/api/communications', supervisor, 200],
    ];
    for (const [method, url, headers, status] of cases) {
      const r = await server.app.inject({
        method: method as 'GET' | 'POST',
        url,
        headers,
        ...(method === 'POST' ? { payload: url.endsWith('approve') ? { reason: 'x' } : body() } : {}),
      });
      expect(r.statusCode, `${method} ${url} ${JSON.stringify(headers)}`).toBe(status);
    }
    const routes = server
      .routes()
      .filter((r) => r.url.startsWith('/api/cases') || r.url.startsWith('/api/communications'));
    expect(routes.length).toBeGreaterThanOrEqual(13);
    for (const r of routes) expect(r.access, `${r.method} ${r.url}`).toBeDefined();
    const doc = await server.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(doc.statusCode).toBe(200);
    expect(Object.keys(doc.json<{ paths: Record<string, unknown> }>().paths)).toEqual(
      expect.arrayContaining([
        '/api/cases/{id}/approve',
        '/api/cases/overdue',
        '/api/communications/{id}/respond',
      ]),
    );
  });

  it('lists by kind with paging, and reports overdue emergency measures and communications', async () => {
    const acq = await created();
    deps.clock.advance(1000);
    const { channel: _c, ...measure } = body({
      kind: 'sdf-measure',
      validFrom: new Date(T).toISOString(),
      validUntil: new Date(T + 7 * DAY).toISOString(),
      emergency: { actedAt: new Date(T).toISOString() },
    });
    const m = await server.app.inject({
      method: 'POST',
      url: '/api/cases',
      headers: as('sdf', 'incident-handling'),
      payload: measure,
    });
    expect(m.statusCode, m.body).toBe(201);
    const sdfId = m.json<{ id: string; case: { emergency: { notifyBy: string } } }>().id;
    expect(m.json<{ case: { emergency: { notifyBy: string } } }>().case.emergency.notifyBy).toBe(
      new Date(T + DAY).toISOString(),
    );
    const page1 = await server.app.inject({ method: 'GET', url: '/api/cases?limit=1', headers: inspector });
    const p1 = page1.json<{ items: { id: string }[]; next: string | null }>();
    expect(p1.items.map((i) => i.id)).toEqual([sdfId]);
    expect(p1.next).not.toBeNull();
    const page2 = await server.app.inject({
      method: 'GET',
      url: `/api/cases?limit=1&cursor=${encodeURIComponent(p1.next ?? '')}`,
      headers: inspector,
    });
    expect(page2.json<{ items: { id: string }[] }>().items.map((i) => i.id)).toEqual([acq]);
    const byKind = await server.app.inject({
      method: 'GET',
      url: '/api/cases?kind=acquisition&state=draft',
      headers: inspector,
    });
    expect(byKind.json<{ items: { id: string }[] }>().items.map((i) => i.id)).toEqual([acq]);

    const com = await server.app.inject({
      method: 'POST',
      url: '/api/communications',
      headers: inspector,
      payload: {
        type: 'recommendation',
        direction: 'from-commission',
        subject: 'Narrow the selectors',
        text: 'Use the /28 instead.',
        caseId: acq,
        dueAt: new Date(T + 2 * DAY).toISOString(),
      },
    });
    expect(com.statusCode, com.body).toBe(201);
    const comId = com.json<{ id: string }>().id;
    expect(com.json()).toMatchObject({ recordKind: 'communication', state: 'open', overdue: false });

    deps.clock.set(T + 3 * DAY);
    const overdue = await server.app.inject({ method: 'GET', url: '/api/cases/overdue', headers: inspector });
    expect(overdue.json()).toEqual({
      items: [
        { id: sdfId, what: 'emergency-notification', dueAt: new Date(T + DAY).toISOString() },
        { id: comId, what: 'communication-response', dueAt: new Date(T + 2 * DAY).toISOString() },
      ],
    });
    const flagged = await server.app.inject({
      method: 'GET',
      url: `/api/cases/${sdfId}`,
      headers: inspector,
    });
    expect(flagged.json()).toMatchObject({ overdue: true });
    const answered = await server.app.inject({
      method: 'POST',
      url: `/api/communications/${comId}/respond`,
      headers: supervisor,
      payload: { text: 'Done.' },
    });
    expect(answered.json()).toMatchObject({
      state: 'answered',
      overdue: false,
      communication: {
        responses: [{ at: new Date(T + 3 * DAY).toISOString(), by: 'supervisor-1', text: 'Done.' }],
      },
    });
    const list = await server.app.inject({
      method: 'GET',
      url: '/api/communications?state=answered',
      headers: inspector,
    });
    expect(list.json<{ items: { id: string }[] }>().items.map((i) => i.id)).toEqual([comId]);
    const one = await server.app.inject({
      method: 'GET',
      url: `/api/communications/${comId}`,
      headers: supervisor,
    });
    expect(one.statusCode).toBe(200);
  });
});
