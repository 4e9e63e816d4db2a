/**
 * The oversight pages of the dashboard end to end (issue 8): the built bundle served by the real
 * API server with the real audit log and audit API (`auditPlugin` over a MemoryStore, a key store
 * and a checkpoint file), and two small test plugins that serve approval cases and retention
 * status in the shapes of the API contract (the real plugins are wired by the centre). Headless
 * Debian chromium checks: the inspector's navigation; the approval queue (submitted first,
 * overdue badge) and a case's detail; approving with a reason turns the case approved and shows
 * the signing key id; a refused decision shows the 409 problem; the audit search lists entries of
 * the real log (the approval among them) and "Verify chain" says intact; the retention page
 * shows partitions, holds and certificates; analysts read approvals without the decision form.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { systemClock } from '../src/common/clock.ts';
import { AcdError } from '../src/common/errors.ts';
import { silentLogger } from '../src/common/logging.ts';
import { MetricsRegistry } from '../src/common/metrics.ts';
import { signDocument, type SigningKey } from '../src/common/signing/index.ts';
import type { ApprovalPayload } from '../src/common/schema/approval.ts';
import { createAuditHooks, createAuditLog, type AuditLog } from '../src/oversee/audit/index.ts';
import { auditPlugin } from '../src/oversee/audit/routes.ts';
import { KeyStore } from '../src/oversee/keys/index.ts';
import { ACCESS } from '../src/serve/access.ts';
import {
  createEventHub,
  createServer,
  createTokenAuth,
  defaultServeConfig,
  NotFoundError,
  type ApiServer,
} from '../src/serve/index.ts';
import type { ServePlugin } from '../src/serve/types.ts';
import { MemoryStore } from '../src/store/memory/store.ts';
import type { ApiCase, DeletionCertificate, RetentionStatus } from '../dashboard/src/types.ts';
import {
  CHROMIUM_SKIP_NOTE,
  ensureChromium,
  ensureDashboardBuilt,
  launchBrowser,
  openDashboard,
  screenshot,
} from './helpers/dashboard.ts';

const INSPECTOR = 'e2e-oversight-inspector-0123456789';
const ANALYST = 'e2e-oversight-analyst-0123456789';
const ADMIN = 'e2e-oversight-admin-0123456789';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const haveChromium = await ensureChromium();
if (!haveChromium) console.warn(CHROMIUM_SKIP_NOTE);

/** The cases service's refusal, as the test plugin raises it (code of the API contract: 409). */
class TestCaseTransitionError extends AcdError {
  constructor(from: string, to: string) {
    super('ERR_CASE_TRANSITION', `an approval case cannot go from ${from} to ${to}`);
  }
}

const iso = (t: number): string => new Date(t).toISOString();

function caseOf(id: string, state: ApiCase['state'], o: Partial<ApiCase['case']> & { at: number }): ApiCase {
  const { at, ...body } = o;
  return {
    id,
    recordKind: 'approval-case',
    state,
    createdAt: iso(at),
    updatedAt: iso(at + 60_000),
    overdue: false,
    case: {
      format: 'acd.approval-case/1',
      kind: 'acquisition',
      title: `Case ${id}`,
      justification: 'Scanning of municipal water-utility controllers from abroad.',
      requester: 'analyst-1',
      requesterRole: 'analyst',
      channel: 'transit-foreign-to-foreign',
      providers: ['prov-a', 'prov-b'],
      targetActs: ['telnet scanning'],
      targets: ['water utilities'],
      selectors: [
        {
          id: 'sel-1',
          kind: 'target-act',
          description: 'TCP SYN to telnet',
          protocol: 6,
          ports: [23, { from: 2323, to: 2324 }],
          direction: 'inbound',
        },
        { id: 'sel-2', kind: 'indicator-list', values: ['198.51.100.0/24'] },
      ],
      validFrom: iso(at),
      validUntil: iso(at + 30 * DAY),
      parameterVersion: '2026-01',
      history: [
        { at: iso(at), from: null, to: 'draft', actor: 'analyst-1', role: 'analyst', reason: 'created' },
        ...(state === 'draft'
          ? []
          : [
              {
                at: iso(at + 60_000),
                from: 'draft' as const,
                to: 'submitted' as const,
                actor: 'analyst-1',
                role: 'analyst',
                reason: 'to the commission',
              },
            ]),
      ],
      ...body,
    },
  };
}

/** A stand-in of the cases plugin: fixed cases in memory, approve/reject with the legal transition only. */
function testCasesPlugin(cases: Map<string, ApiCase>, log: AuditLog, key: SigningKey): ServePlugin {
  const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }) });
  const Reason = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 2000 }) });
  const ListQuery = Type.Object({
    kind: Type.Optional(Type.String()),
    state: Type.Optional(Type.String()),
    limit: Type.Optional(Type.Integer({ minimum: 1 })),
    cursor: Type.Optional(Type.String()),
  });
  return (api) => {
    api.get('/api/cases', { config: { access: ACCESS.cases }, schema: { querystring: ListQuery } }, (req) => {
      const { kind, state } = req.query;
      const items = [...cases.values()]
        .filter(
          (c) => (kind === undefined || c.case.kind === kind) && (state === undefined || c.state === state),
        )
        .sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt));
      return Promise.resolve({ items, next: null });
    });
    api.get('/api/cases/overdue', { config: { access: ACCESS.cases } }, () =>
      Promise.resolve({
        items: [...cases.values()]
          .filter((c) => c.overdue && c.case.emergency !== undefined)
          .map((c) => ({ id: c.id, what: 'emergency-notification', dueAt: c.case.emergency?.notifyBy })),
      }),
    );
    api.get('/api/cases/:id', { config: { access: ACCESS.cases }, schema: { params: IdParams } }, (req) => {
      const c = cases.get(req.params.id);
      return c === undefined ? Promise.reject(new NotFoundError('case', req.params.id)) : Promise.resolve(c);
    });
    for (const decision of ['approve', 'reject'] as const) {
      api.post(
        `/api/cases/:id/${decision}`,
        { config: { access: ACCESS.caseDecisions }, schema: { params: IdParams, body: Reason } },
        async (req) => {
          const c = cases.get(req.params.id);
          if (c === undefined) throw new NotFoundError('case', req.params.id);
          const to = decision === 'approve' ? 'approved' : 'rejected';
          if (c.state !== 'submitted') throw new TestCaseTransitionError(c.state, to);
          const actor = req.actor;
          if (actor === null) throw new NotFoundError('actor', 'none');
          const now = Date.now();
          const payload: ApprovalPayload = {
            type: 'approval',
            id: `approval-${c.id}`,
            kind: c.case.kind,
            channel: c.case.channel ?? 'transit-foreign-to-foreign',
            providers: c.case.providers,
            targetActs: c.case.targetActs,
            selectors: c.case.selectors,
            validFrom: c.case.validFrom,
            validUntil: c.case.validUntil,
            issuedAt: iso(now),
            caseId: c.id,
          };
          const updated: ApiCase = {
            ...c,
            state: to,
            updatedAt: iso(now),
            case: {
              ...c.case,
              history: [
                ...c.case.history,
                {
                  at: iso(now),
                  from: 'submitted',
                  to,
                  actor: actor.user,
                  role: actor.role,
                  reason: req.body.reason,
                },
              ],
              decision: { at: iso(now), by: actor.user, reason: req.body.reason },
              ...(to === 'approved' ? { signedApproval: signDocument(payload, [key]) } : {}),
            },
          };
          cases.set(c.id, updated);
          await log.append({
            actor: actor.user,
            role: actor.role,
            purpose: actor.purpose,
            action: `case.${decision}`,
            objectIds: [c.id],
            detail: { reason: req.body.reason },
          });
          return updated;
        },
      );
    }
  };
}

/** A stand-in of the retention plugin: a fixed status and certificate list. */
function testRetentionPlugin(status: RetentionStatus, certificates: DeletionCertificate[]): ServePlugin {
  return (api) => {
    api.get('/api/retention', { config: { access: ACCESS.retention } }, () => Promise.resolve(status));
    api.get('/api/retention/certificates', { config: { access: ACCESS.retention } }, () =>
      Promise.resolve({ items: certificates, next: null }),
    );
  };
}

interface Centre {
  url: string;
  cases: Map<string, ApiCase>;
  commissionKeyId: string;
  stop(): Promise<void>;
}

async function startCentre(dashboardDir: string): Promise<Centre> {
  const dir = await mkdtemp(join(tmpdir(), 'acd-e2e-oversight-'));
  const store = new MemoryStore();
  await store.open();
  const keys = new KeyStore(join(dir, 'keys'), systemClock);
  await keys.init();
  const commission = await keys.signingKey('commission');
  const checkpointFile = join(dir, 'audit', 'checkpoints.ndjson');
  const log = createAuditLog({ store, clock: systemClock, keys, checkpointFile });
  await log.start();
  await log.append({
    actor: 'local-admin',
    role: 'administrator',
    purpose: 'administration',
    action: 'config.change',
    detail: { key: 'retention.runAt' },
  });
  await log.checkpoint();
  const hooks = createAuditHooks(log);

  const now = Date.now();
  const cases = new Map<string, ApiCase>();
  cases.set('case-approved-1', {
    ...caseOf('case-approved-1', 'approved', { at: now - 10 * DAY, title: 'Earlier telnet scanning' }),
  });
  cases.set(
    'case-sub-1',
    caseOf('case-sub-1', 'submitted', { at: now - 3 * DAY, title: 'Telnet scanning of utilities' }),
  );
  cases.set('case-sub-2', {
    ...caseOf('case-sub-2', 'submitted', {
      at: now - 2 * DAY,
      kind: 'police-measure',
      title: 'Emergency sinkhole of a botnet controller',
      emergency: { actedAt: iso(now - 2 * DAY), notifyBy: iso(now - DAY) },
    }),
    overdue: true,
  });
  cases.set(
    'case-draft-1',
    caseOf('case-draft-1', 'draft', { at: now - HOUR, title: 'Draft for DNS tunnelling' }),
  );

  const day = (d: number): string => iso(now - d * DAY).slice(0, 10);
  const status: RetentionStatus = {
    now: iso(now),
    parameterVersion: '2026-01',
    retention: {
      'transit-foreign-to-foreign': 'P7D',
      'agreement-foreign-to-domestic': 'P30D',
      evidence: 'P90D',
    },
    partitions: [
      { kind: 'records', day: day(1), rows: 120_000, expiresAt: iso(now + 6 * DAY), held: false },
      { kind: 'records', day: day(0), rows: 80_500, expiresAt: iso(now + 7 * DAY), held: false },
      { kind: 'evidence', day: day(20), rows: 340, expiresAt: iso(now + 70 * DAY), held: true },
    ],
    holds: [
      { caseId: 'case-approved-1', validUntil: iso(now + 20 * DAY), incidentIds: ['inc-1'], days: [day(20)] },
    ],
    lastRun: { at: iso(now - 6 * HOUR), certificateId: 'cert-1' },
    nextRunAt: iso(now + 18 * HOUR),
  };
  const certificates: DeletionCertificate[] = [
    {
      format: 'acd.deletion-certificate/1',
      id: 'cert-1',
      runAt: iso(now - 6 * HOUR),
      period: { firstDay: day(9), lastDay: day(8) },
      counts: { records: 250_000, evidence: 12, rollup_1m: 2880 },
      remainingRows: 0,
      parameterVersion: '2026-01',
      holds: ['case-approved-1'],
      keyIds: [commission.keyId],
      keyId: commission.keyId,
      signature: 'test-signature',
    },
  ];

  const server: ApiServer = createServer(
    {
      store,
      live: {
        overview: () => ({
          watermark: null,
          totals: { records: 0, recordsPerSecond: 0, selected: 0, dropped: 0, selectionRatio: 0 },
          providers: [],
          alertsBySeverity: { low: 0, medium: 0, high: 0, critical: 0 },
          incidentsBySeverity: { low: 0, medium: 0, high: 0, critical: 0 },
          incidentsByState: { new: 0, triaged: 0, notified: 0, mitigated: 0, closed: 0 },
          detectors: [],
        }),
        providers: () => [],
        feeds: () => [],
        indicators: () => [],
        readiness: () => ({ store: true, bus: true }),
      },
      actions: {
        transitionIncident: () => Promise.reject(new NotFoundError('incident', 'none')),
        markFalsePositive: () => Promise.reject(new NotFoundError('alert', 'none')),
        deleteSuppression: () => Promise.resolve(false),
      },
      events: createEventHub(64),
      metrics: new MetricsRegistry(),
      auth: createTokenAuth([
        { token: INSPECTOR, user: 'e2e-inspector', role: 'inspector', defaultPurpose: 'oversight' },
        { token: ANALYST, user: 'e2e-analyst', role: 'analyst', defaultPurpose: 'incident-handling' },
        { token: ADMIN, user: 'e2e-admin', role: 'administrator', defaultPurpose: 'administration' },
      ]),
      audit: (r) => hooks.onRequest(r),
      plugins: [
        testCasesPlugin(cases, log, commission),
        testRetentionPlugin(status, certificates),
        auditPlugin({ log, store, keys, checkpointFile }),
      ],
      clock: systemClock,
      logger: silentLogger,
      dashboardDir,
    },
    defaultServeConfig({ host: '127.0.0.1', port: 0 }),
  );
  await server.start();
  return {
    url: server.address()?.url ?? '',
    cases,
    commissionKeyId: commission.keyId,
    async stop() {
      await server.stop();
      await log.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function navLabels(page: Page): Promise<string[]> {
  return (await page.locator('header.top nav a').allTextContents()).map((s) => s.trim());
}

describe.runIf(haveChromium)(
  'dashboard oversight pages (real API server and audit log, headless chromium)',
  () => {
    let centre: Centre;
    let browser: Browser;
    let page: Page;

    beforeAll(async () => {
      const dir = await ensureDashboardBuilt();
      centre = await startCentre(dir);
      browser = await launchBrowser();
    });

    afterAll(async () => {
      await browser?.close();
      await centre?.stop();
    });

    it('shows the inspector Approvals, Audit and Retention, and no incident list or live stream', async () => {
      page = (await openDashboard(browser, centre.url, INSPECTOR)).page;
      await expect.poll(() => navLabels(page)).toContain('Approvals');
      const labels = await navLabels(page);
      expect(labels).toEqual(expect.arrayContaining(['Approvals', 'Audit', 'Retention']));
      expect(labels).not.toContain('Incidents');
      expect(await page.getByTestId('live-status').count()).toBe(0);
    });

    it('lists submitted cases first with the overdue badge, and approves one with a reason', async () => {
      await page.getByRole('link', { name: 'Approvals' }).click();
      await page.locator('tr[data-case="case-sub-1"]').waitFor();
      const rows = page.locator('tr[data-case]');
      const order: (string | null)[] = [];
      for (let i = 0; i < (await rows.count()); i++) order.push(await rows.nth(i).getAttribute('data-case'));
      expect(order.slice(0, 2).sort()).toEqual(['case-sub-1', 'case-sub-2']);
      expect(order).toContain('case-draft-1');
      await expect
        .poll(() => page.locator('tr[data-case="case-sub-2"] .badge.bad').textContent())
        .toBe('overdue');
      expect(await page.getByTestId('overdue').textContent()).toContain('case-sub-2');
      await screenshot(page, 'oversight-approvals');

      await page.locator('tr[data-case="case-sub-1"] a').first().click();
      await page.locator('#case-title').waitFor();
      expect(await page.locator('#case-title').textContent()).toBe('Telnet scanning of utilities');
      const request = (await page.locator('#case-request').textContent()) ?? '';
      expect(request).toContain('Scanning of municipal water-utility controllers');
      expect(request).toContain('transit-foreign-to-foreign');
      expect(await page.locator('#case-selectors').textContent()).toContain('23, 2323-2324');
      const approve = page.locator('button[data-decision="approve"]');
      expect(await approve.isDisabled()).toBe(true); // the reason is required
      await page
        .locator('input[name="decision-reason"]')
        .fill('Proportionate: limited to telnet scanning for 30 days');
      await approve.click();
      await expect.poll(() => page.getByTestId('case-state').textContent()).toBe('approved');
      expect(await page.getByTestId('approval-key-ids').textContent()).toContain(centre.commissionKeyId);
      expect(await page.locator('#case-history').textContent()).toContain(
        'submitted → approved by e2e-inspector',
      );
      expect(centre.cases.get('case-sub-1')?.state).toBe('approved');
      expect(await page.locator('button[data-decision="approve"]').count()).toBe(0);
      await page.screenshot({ path: '/tmp/oversight.png', fullPage: true });
      await screenshot(page, 'oversight-case-approved');
    });

    it('shows a refused decision with the problem title and code', async () => {
      await page.goto(`${centre.url}#/approvals/case-sub-2`);
      await page.locator('#case-emergency').waitFor();
      expect(await page.locator('#case-emergency').textContent()).toContain('overdue');
      // Another inspector decided meanwhile: the page still offers the decision, the API refuses it.
      const c = centre.cases.get('case-sub-2');
      if (c !== undefined) centre.cases.set('case-sub-2', { ...c, state: 'rejected' });
      await page.locator('input[name="decision-reason"]').fill('no notification in time');
      await page.locator('button[data-decision="reject"]').click();
      const problem = page.locator('[role="alert"]', { hasText: 'Decision refused' });
      await problem.waitFor();
      const text = (await problem.textContent()) ?? '';
      expect(text).toContain('Conflict');
      expect(text).toContain('409 ERR_CASE_TRANSITION');
    });

    it('searches the real audit log (the approval among the entries) and verifies the chain as intact', async () => {
      await page.getByRole('link', { name: 'Audit' }).click();
      await page.locator('tr[data-seq="1"]').waitFor();
      expect(await page.locator('tr[data-seq="1"]').textContent()).toContain('config.change');
      // Every API request of this session is in the log too (the audit hook of the server).
      expect(await page.locator('tr[data-seq]', { hasText: 'GET /api/cases/:id' }).count()).toBeGreaterThan(
        0,
      );
      await page.locator('input[name="action"]').fill('case.');
      await page.locator('input[name="actor"]').fill('e2e-inspector');
      await page.getByRole('button', { name: 'Search' }).click();
      await expect.poll(() => page.locator('tr[data-seq]').count()).toBe(1);
      const row = (await page.locator('tr[data-seq]').textContent()) ?? '';
      expect(row).toContain('case.approve');
      expect(row).toContain('case-sub-1');
      expect(row).toContain('oversight');
      expect(page.url()).toContain('action=case.');
      await page.getByRole('button', { name: 'Verify chain' }).click();
      await expect
        .poll(() => page.getByTestId('verify-verdict').textContent())
        .toMatch(/^Chain intact: \d+ entries/);
      await screenshot(page, 'oversight-audit');
      // The verification is itself an entry.
      await page.locator('input[name="action"]').fill('audit.verify');
      await page.getByRole('button', { name: 'Search' }).click();
      await expect.poll(() => page.locator('tr[data-seq]', { hasText: 'audit.verify' }).count()).toBe(1);
    });

    it('shows retention parameters, partitions with expiry and holds, and deletion certificates', async () => {
      await page.getByRole('link', { name: 'Retention' }).click();
      await page.locator('tr[data-partition]').first().waitFor();
      expect(await page.getByTestId('parameter-version').textContent()).toBe('2026-01');
      expect(await page.locator('tr[data-partition]').count()).toBe(3);
      expect(await page.locator('tr[data-partition] .badge.ok').count()).toBe(1);
      expect(await page.locator('#retention-channels').textContent()).toContain('P7D');
      expect(await page.locator('#retention-holds').textContent()).toContain('case-approved-1');
      const cert = (await page.locator('tr[data-certificate="cert-1"]').textContent()) ?? '';
      expect(cert).toContain(centre.commissionKeyId);
      expect(cert).toContain('records 250.0k');
      await screenshot(page, 'oversight-retention');
    });

    it('gives analysts the approvals read-only and administrators audit and retention', async () => {
      const analyst = (
        await openDashboard(browser, centre.url, ANALYST, { route: '#/approvals/case-draft-1' })
      ).page;
      await analyst.locator('#case-title').waitFor();
      expect(await navLabels(analyst)).toEqual(['Overview', 'Incidents', 'Map', 'Approvals']);
      expect(await analyst.locator('input[name="decision-reason"]').count()).toBe(0);
      await analyst.getByRole('link', { name: 'Approvals' }).click();
      await analyst.locator('tr[data-case]').first().waitFor();
      expect(await analyst.locator('text=Read-only').count()).toBe(1);
      const admin = (await openDashboard(browser, centre.url, ADMIN, { route: '#/audit' })).page;
      await expect.poll(() => navLabels(admin)).toEqual(['Overview', 'Map', 'Audit', 'Retention']);
      await admin.locator('tr[data-seq]').first().waitFor();
    });
  },
);
