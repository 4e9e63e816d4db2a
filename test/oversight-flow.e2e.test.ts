/**
 * Issue 8 end to end through API and dashboard with the centre's real oversight wiring
 * (`startOversight`: audit log, cases, retention, report, re-identification, bulk-access monitor)
 * and the built dashboard in headless Debian chromium:
 * 1. an analyst files an acquisition case through the API and submits it;
 * 2. the commission inspector approves it in the dashboard with a reason: the stored case holds a
 *    signed approval that verifies against the centre's commission key, and the approval reaches
 *    the provider's edge over the bus's control direction;
 * 3. the administrator runs retention through the API over expired records: a signed deletion
 *    certificate appears on the dashboard's retention page;
 * 4. the inspector finds the decision in the audit search and the chain verifies intact;
 * 5. the transparency report of the day counts the request and the approval.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { systemClock } from '../src/common/clock.ts';
import { shippedLegalParameters } from '../src/common/legal/index.ts';
import { silentLogger } from '../src/common/logging.ts';
import { MetricsRegistry } from '../src/common/metrics.ts';
import { verifyApproval } from '../src/common/schema/approval.ts';
import { resolveTrustedKey, TrustedKeySet } from '../src/common/signing/index.ts';
import { startOversight, type Oversight } from '../src/cli/centre/oversight.ts';
import { createEventHub, createServer, defaultServeConfig, type ApiServer } from '../src/serve/index.ts';
import { testDeps, tokenOf } from '../src/serve/testing.ts';
import { MemoryStore } from '../src/store/memory/store.ts';
import { flowRecord } from '../src/store/testing.ts';
import { createMemoryBus, type Bus, type DeliveredControl } from '../src/transport/index.ts';
import {
  CHROMIUM_SKIP_NOTE,
  ensureChromium,
  ensureDashboardBuilt,
  launchBrowser,
  openDashboard,
} from './helpers/dashboard.ts';

const DAY = 86_400_000;
const haveChromium = await ensureChromium();
if (!haveChromium) console.warn(CHROMIUM_SKIP_NOTE);

describe.runIf(haveChromium)('oversight end to end: API, real oversight services, dashboard', () => {
  let dir: string;
  let bus: Bus;
  let store: MemoryStore;
  let oversight: Oversight;
  let server: ApiServer;
  let browser: Browser;
  let inspector: Page;
  let url: string;
  let caseId: string;
  const control: DeliveredControl[] = [];

  const api = async (
    role: 'analyst' | 'inspector' | 'administrator',
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: () => Promise<unknown>; text: () => Promise<string> }> => {
    const purpose = { analyst: 'investigation', inspector: 'oversight', administrator: 'administration' }[
      role
    ];
    return fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${tokenOf(role)}`,
        'x-acd-purpose': purpose,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  };

  beforeAll(async () => {
    const dashboardDir = await ensureDashboardBuilt();
    dir = await mkdtemp(join(tmpdir(), 'acd-oversight-flow-'));
    bus = createMemoryBus({ clock: systemClock });
    await bus.start();
    await bus.subscribeControl('provider-1', (m) => {
      control.push(m);
      return Promise.resolve();
    });
    store = new MemoryStore();
    await store.open();
    const events = createEventHub(64, systemClock);
    oversight = await startOversight({
      store,
      bus,
      clock: systemClock,
      logger: silentLogger,
      dataDir: dir,
      events,
      metrics: new MetricsRegistry(),
      legal: shippedLegalParameters(),
    });
    // Records whose retention deadline has passed (and one kept), stored after the job's run at
    // start: for the run on demand.
    for (let i = 0; i < 200 && (await oversight.retention.status()).lastRun === null; i++)
      await new Promise((r) => setTimeout(r, 50));
    const now = Date.now();
    await store.appendRecords([
      ...Array.from({ length: 40 }, (_, i) =>
        flowRecord({ t: now - 800 * DAY + i * 1000, index: i, retainUntil: now - 2 * DAY }),
      ),
      flowRecord({ t: now - DAY, index: 99, retainUntil: now + 700 * DAY }),
    ]);
    server = createServer(
      {
        ...testDeps(),
        store,
        events,
        audit: (req) => oversight.onRequest(req),
        plugins: oversight.plugins,
        clock: systemClock,
        dashboardDir,
      },
      defaultServeConfig({ host: '127.0.0.1', port: 0 }),
    );
    await server.start();
    url = server.address()?.url ?? '';
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await oversight?.stop();
    await bus?.stop();
    await store?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('an analyst files and submits an acquisition case through the API', async () => {
    const now = Date.now();
    const created = await api('analyst', 'POST', '/api/cases', {
      kind: 'acquisition',
      title: 'C2 servers of a telnet botnet',
      justification: 'Infected domestic routers beacon to these foreign servers (incident in-1).',
      channel: 'specified-foreign-to-domestic',
      providers: ['provider-1'],
      targetActs: ['botnet command and control'],
      targets: ['C2 servers 198.51.100.0/24'],
      selectors: [{ id: 'c2', kind: 'indicator-list', values: ['198.51.100.0/24'] }],
      validFrom: new Date(now).toISOString(),
      validUntil: new Date(now + 30 * DAY).toISOString(),
    });
    const text = await created.text();
    expect(created.status, text).toBe(201);
    caseId = (JSON.parse(text) as { id: string }).id;
    const submitted = await api('analyst', 'POST', `/api/cases/${caseId}/submit`);
    expect(submitted.status).toBe(200);
    expect(((await submitted.json()) as { state: string }).state).toBe('submitted');
    // The analyst may not decide.
    const refused = await api('analyst', 'POST', `/api/cases/${caseId}/approve`, { reason: 'self-approval' });
    expect(refused.status).toBe(403);
  });

  it('the inspector approves it in the dashboard: a signed approval reaches the edge', async () => {
    inspector = (await openDashboard(browser, url, tokenOf('inspector'), { route: `#/approvals/${caseId}` }))
      .page;
    await inspector.locator('#case-title').waitFor();
    expect(await inspector.locator('#case-title').textContent()).toBe('C2 servers of a telnet botnet');
    await inspector
      .locator('input[name="decision-reason"]')
      .fill('Necessary and limited to the named C2 range');
    await inspector.locator('button[data-decision="approve"]').click();
    await expect.poll(() => inspector.getByTestId('case-state').textContent()).toBe('approved');
    const commission = (await oversight.keys.exportPublic()).keys.find((k) => k.purpose === 'commission');
    expect(commission).toBeDefined();
    expect(await inspector.getByTestId('approval-key-ids').textContent()).toContain(commission!.keyId);

    const stored = await store.getCase(caseId);
    expect(stored?.state).toBe('approved');
    const doc = (stored?.body as { signedApproval?: unknown }).signedApproval;
    const trust = new TrustedKeySet([
      resolveTrustedKey({
        publicKey: commission!.publicKey,
        signer: commission!.signer,
        validFrom: commission!.validFrom,
        validUntil: commission!.validUntil,
        scopes: ['approval'],
      }),
    ]);
    const verdict = verifyApproval(doc, trust, Date.now());
    expect(verdict.ok).toBe(true);
    await expect.poll(() => control.filter((m) => m.kind === 'approval').length).toBe(1);
    const sent = control.find((m) => m.kind === 'approval');
    expect(JSON.parse(Buffer.from(sent!.payload).toString('utf8'))).toEqual(doc);
  });

  it('the administrator runs retention: the certificate shows on the retention page', async () => {
    const run = await api('administrator', 'POST', '/api/retention/run');
    expect(run.status).toBe(200);
    const runText = await run.text();
    const cert = JSON.parse(runText) as {
      id: string;
      counts?: Record<string, number>;
      remainingRows: number;
    };
    expect(cert.counts, runText).toBeDefined();
    expect(cert.counts?.records).toBe(40);
    expect(cert.remainingRows).toBe(0);
    const again = (await (await api('administrator', 'POST', '/api/retention/run')).json()) as {
      deleted?: boolean;
    };
    expect(again.deleted).toBe(false);

    await inspector.getByRole('link', { name: 'Retention' }).click();
    await inspector.locator(`tr[data-certificate="${cert.id}"]`).waitFor();
    expect(await inspector.locator(`tr[data-certificate="${cert.id}"]`).textContent()).toContain('records');
  });

  it('the inspector finds the decision in the audit log and the chain verifies', async () => {
    await inspector.getByRole('link', { name: 'Audit' }).click();
    await inspector.locator('tr[data-seq]').first().waitFor();
    await inspector.locator('input[name="action"]').fill('case.approve');
    await inspector.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => inspector.locator('tr[data-seq]').count()).toBe(1);
    expect(await inspector.locator('tr[data-seq]').textContent()).toContain(caseId);
    await inspector.getByRole('button', { name: 'Verify chain' }).click();
    await expect.poll(() => inspector.getByTestId('verify-verdict').textContent()).toMatch(/^Chain intact/);
  });

  it('the transparency report of the day counts the request and the approval', async () => {
    const from = new Date(Date.now() - DAY).toISOString();
    const to = new Date(Date.now() + DAY).toISOString();
    const res = await api('inspector', 'GET', `/api/reports/transparency?from=${from}&to=${to}&format=json`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const report = JSON.parse(text) as {
      format: string;
      sections: {
        approvals: { byKind: Record<string, { requested: number; approved: number; pendingAtEnd: number }> };
        retention: { certificates: number; byTable: Record<string, number> };
      };
    };
    expect(report.format).toBe('acd.transparency-report/1');
    // Totals reconcile with what this test did: one request, approved; one retention run.
    expect(report.sections.approvals.byKind.acquisition).toMatchObject({
      requested: 1,
      approved: 1,
      pendingAtEnd: 0,
    });
    expect(report.sections.retention.certificates).toBe(1);
    expect(report.sections.retention.byTable.records).toBe(40);
    const md = await api('inspector', 'GET', `/api/reports/transparency?from=${from}&to=${to}&format=md`);
    expect(md.status).toBe(200);
    expect(await md.text()).toContain('not available');
  });
});
