/**
 * The dashboard end to end: the built bundle served by the real API server (src/serve) over a
 * MemoryStore seeded with records, alerts and incidents, an EventHub publishing live statistics,
 * and headless Debian chromium driven by playwright-core. Specifies that the page loads signed in,
 * live numbers move, a new incident appears without a reload and opens with its evidence chain,
 * state changes work (and an illegal one shows the 409 problem), a false positive creates a
 * suppression rule, the map colours the source countries, and a bad token leads to sign-in.
 * Screenshots go to test-artifacts/dashboard/; time to first render is printed, not asserted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { systemClock } from '../src/common/clock.ts';
import { silentLogger } from '../src/common/logging.ts';
import { MetricsRegistry } from '../src/common/metrics.ts';
import type { Incident, SuppressionRule } from '../src/common/schema/alert.ts';
import { applyTransition } from '../src/correlate/lifecycle.ts';
import {
  alertJson,
  createEventHub,
  createServer,
  createTokenAuth,
  defaultServeConfig,
  incidentItemJson,
  NotFoundError,
} from '../src/serve/index.ts';
import type {
  ApiServer,
  EventHub,
  LiveView,
  Overview,
  ServeActions,
  ServeConfig,
} from '../src/serve/index.ts';
import { AccessRegistry } from '../src/oversee/access/index.ts';
import { MemoryStore } from '../src/store/memory/store.ts';
import { alertOf, flowRecord, incidentOf } from '../src/store/testing.ts';
import {
  CHROMIUM_SKIP_NOTE,
  ensureChromium,
  ensureDashboardBuilt,
  launchBrowser,
  openDashboard,
  screenshot,
} from './helpers/dashboard.ts';

const TOKEN = 'e2e-dashboard-token-0123456789';
/** A user of the registry for the password login (issue 8). */
const USER = 'e2e-user';
const PASSWORD = 'e2e password 0123456789';
const PROVIDERS = [
  { id: 'prov-a', name: 'Provider A' },
  { id: 'prov-b', name: 'Provider B' },
];
/** How often the test's counters move and the server publishes them (the default: every second). */
const STATS_INTERVAL_MS = 250;

const haveChromium = await ensureChromium();
if (!haveChromium) console.warn(CHROMIUM_SKIP_NOTE);

/** A centre stand-in around the real store, hub and server: counters move on a timer. */
interface TestCentre {
  store: MemoryStore;
  events: EventHub;
  server: ApiServer;
  url: string;
  /** Adds an incident with one alert to the store and announces both live. */
  addIncident(
    id: string,
    o: { subject: string; severity: 'low' | 'medium' | 'high' | 'critical' },
  ): Promise<void>;
  stop(): Promise<void>;
}

function serveConfig(): ServeConfig {
  const base = defaultServeConfig({ host: '127.0.0.1', port: 0 });
  return { ...base, sse: { ...base.sse, statsInterval: STATS_INTERVAL_MS } };
}

async function startCentre(dashboardDir: string): Promise<TestCentre> {
  const store = new MemoryStore();
  await store.open();
  const accessDir = await mkdtemp(join(tmpdir(), 'acd-e2e-access-'));
  const users = AccessRegistry.open(join(accessDir, 'access.json'), {
    clock: systemClock,
    scrypt: { N: 1024, r: 8, p: 1, keyLength: 32, saltLength: 16 },
  });
  await users.addUser({ id: USER, role: 'analyst', password: PASSWORD });
  const now = Date.now();
  // Records from several countries (the map) for both providers over the last minutes.
  const countries = ['CN', 'RU', 'US', 'BR', 'DE', 'IN', 'NL', 'KR'];
  const records = [];
  for (let i = 0; i < 400; i++) {
    records.push(
      flowRecord({
        t: now - 20 * 60_000 + i * 3000,
        providerId: PROVIDERS[i % 2]?.id ?? 'prov-a',
        src: `198.51.100.${i % 50}`,
        dst: '10.1.2.3',
        srcCountry: countries[i % (i % 3 === 0 ? 2 : countries.length)] ?? 'CN',
        dstCountry: 'FI',
        srcAsn: 64_500 + (i % 7),
        dstAsn: 65_001,
        dstPort: [443, 22, 80, 53][i % 4] ?? 443,
        index: i,
      }),
    );
  }
  await store.appendRecords(records);
  const seeded: Incident[] = [];
  for (let k = 0; k < 3; k++) {
    const t = now - (30 - k * 5) * 60_000;
    const alert = alertOf(`alert-seed-${k}`, {
      detector: (['scan', 'brute-force', 'beacon'] as const)[k] ?? 'scan',
      subject: `198.51.100.${k}`,
      severity: k === 2 ? 'high' : 'medium',
      firstSeen: t,
      incidentId: `inc-seed-${k}`,
      counterparts: ['10.1.2.3'],
    });
    await store.upsertAlerts([alert]);
    const inc = incidentOf(`inc-seed-${k}`, {
      subjects: [alert.subject],
      counterparts: ['10.1.2.3'],
      detectors: [alert.detector],
      alerts: [alert.id],
      severity: alert.severity,
      firstSeen: t,
      lastSeen: t + 60_000,
    });
    seeded.push(inc);
  }
  await store.upsertIncidents(seeded);

  const events = createEventHub(1024);
  let recordsTotal = 10_000;
  const totals = (): Overview['totals'] => ({
    records: recordsTotal,
    recordsPerSecond: 0,
    selected: recordsTotal,
    dropped: recordsTotal * 9,
    selectionRatio: 0.1,
  });
  // The counters move like a running centre's; the server publishes them as SSE `stats`.
  let rates: Record<string, number> = { 'prov-a': 0, 'prov-b': 0 };
  const timer = setInterval(() => {
    const a = 900 + Math.round(Math.random() * 200);
    const b = 400 + Math.round(Math.random() * 100);
    rates = { 'prov-a': a, 'prov-b': b };
    recordsTotal += Math.round(((a + b) * STATS_INTERVAL_MS) / 1000);
  }, STATS_INTERVAL_MS);

  const live: LiveView = {
    async overview() {
      const all = await store.listIncidents({ limit: 1000 });
      const bySev = { low: 0, medium: 0, high: 0, critical: 0 };
      const byState = { new: 0, triaged: 0, notified: 0, mitigated: 0, closed: 0 };
      for (const i of all.items) {
        bySev[i.severity]++;
        byState[i.state]++;
      }
      return {
        watermark: Date.now() - 5000,
        totals: { ...totals(), recordsPerSecond: (rates['prov-a'] ?? 0) + (rates['prov-b'] ?? 0) },
        providers: PROVIDERS.map((p, n) => ({
          ...p,
          recordsPerSecond: rates[p.id] ?? 0,
          records: recordsTotal / 2,
          exporters: [
            {
              id: `${p.id}-r1`,
              address: `127.0.0.${n + 2}`,
              observationDomainId: 0,
              healthy: true,
              lastSeen: Date.now() - 1000,
              loss: 0,
              templates: 3,
            },
          ],
        })),
        alertsBySeverity: bySev,
        incidentsBySeverity: bySev,
        incidentsByState: byState,
        detectors: [
          { name: 'scan', evidence: 12, alerts: 1, lastAlertAt: now - 30 * 60_000 },
          { name: 'ddos', evidence: 0, alerts: 0, lastAlertAt: null },
        ],
      };
    },
    providers: () => [],
    feeds: () => [],
    indicators: () => [
      { value: '198.51.100.1', type: 'ipv4', validUntil: null, source: 'test-feed', confidence: 0.8 },
    ],
    readiness: () => ({ store: true, bus: true }),
  };

  const actions: ServeActions = {
    async transitionIncident(id, to, reason, actor) {
      const d = await store.getIncident(id);
      if (d === undefined) throw new NotFoundError('incident', id);
      applyTransition(d.incident, to, actor.user, reason, Date.now());
      await store.upsertIncidents([d.incident]);
      events.publish('incident', incidentItemJson(d.incident));
      return d.incident;
    },
    async markFalsePositive(alertId, reason, actor) {
      const a = await store.getAlert(alertId);
      if (a === undefined) throw new NotFoundError('alert', alertId);
      const rule: SuppressionRule = {
        id: `fp-${alertId}`,
        detector: a.detector,
        subject: a.subject,
        reason,
        createdBy: actor.user,
        createdAt: Date.now(),
      };
      await store.putSuppression(rule);
      return rule;
    },
    async deleteSuppression(id) {
      return store.deleteSuppression(id);
    },
  };

  const server = createServer(
    {
      store,
      live,
      actions,
      events,
      metrics: new MetricsRegistry(),
      auth: createTokenAuth([
        { token: TOKEN, user: 'e2e-analyst', role: 'analyst', defaultPurpose: 'monitoring' },
      ]),
      users,
      clock: systemClock,
      logger: silentLogger,
      dashboardDir,
    },
    serveConfig(),
  );
  await server.start();
  const url = server.address()?.url ?? '';

  return {
    store,
    events,
    server,
    url,
    async addIncident(id, o) {
      const t = Date.now() - 60_000;
      const alert = alertOf(`alert-${id}`, {
        detector: 'ddos',
        subject: o.subject,
        severity: o.severity,
        firstSeen: t,
        incidentId: id,
        counterparts: ['198.51.100.7', '198.51.100.8'],
      });
      const inc = incidentOf(id, {
        detectors: ['ddos'],
        subjects: [o.subject],
        counterparts: alert.counterparts,
        alerts: [alert.id],
        severity: o.severity,
        firstSeen: t,
        lastSeen: Date.now(),
      });
      inc.summary = `DDoS against ${o.subject}`;
      await store.upsertAlerts([alert]);
      await store.upsertIncidents([inc]);
      events.publish('alert', alertJson(alert));
      events.publish('incident', incidentItemJson(inc));
    },
    async stop() {
      clearInterval(timer);
      await server.stop();
      await store.close();
      await rm(accessDir, { recursive: true, force: true });
    },
  };
}

async function textOf(page: Page, testId: string): Promise<string> {
  return (await page.getByTestId(testId).textContent()) ?? '';
}

describe.runIf(haveChromium)('dashboard end to end (real API server, headless chromium)', () => {
  let centre: TestCentre;
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

  it('loads signed in from #token=, strips the token from the URL, and live numbers move', async () => {
    const opened = await openDashboard(browser, centre.url, TOKEN);
    page = opened.page;
    console.log(`dashboard: time to first render ${opened.firstRenderMs.toFixed(0)} ms`);
    expect(page.url()).not.toContain('token=');
    await expect.poll(() => textOf(page, 'live-status')).toBe('live');
    await expect.poll(async () => Number(await textOf(page, 'stats-events'))).toBeGreaterThan(2);
    const first = await textOf(page, 'records-total');
    await expect.poll(() => textOf(page, 'records-total')).not.toBe(first);
    expect(await textOf(page, 'records-per-second')).toMatch(/^[0-9.]+k?$/);
    await expect.poll(() => page.locator('table >> text=Provider B').count()).toBeGreaterThan(0);
    await screenshot(page, 'overview-light');
  });

  it('shows a new incident in the list without a reload, and opens it with its evidence chain', async () => {
    await page.getByRole('link', { name: 'Incidents' }).click();
    await page.locator('tr[data-incident="inc-seed-0"]').waitFor();
    await centre.addIncident('inc-ddos-1', { subject: '10.9.8.7', severity: 'critical' });
    const row = page.locator('tr[data-incident="inc-ddos-1"]');
    await row.waitFor({ timeout: 15_000 });
    // Newest first.
    expect(await page.locator('tr[data-incident]').first().getAttribute('data-incident')).toBe('inc-ddos-1');
    await screenshot(page, 'incidents');
    await row.getByRole('link').click();
    await expect.poll(() => page.locator('#incident-title').textContent()).toBe('DDoS against 10.9.8.7');
    expect(page.url()).toContain('#/incidents/inc-ddos-1');
    const alert = page.locator('details.alert[data-alert="alert-inc-ddos-1"]');
    await alert.locator('summary').click();
    await expect.poll(() => alert.locator('.facts').first().isVisible()).toBe(true);
    expect(await alert.locator('.records code').textContent()).toContain('prov-a/192.0.2.1/0/1/2');
    // Country and ASN of an involved address, from a stored record of it.
    await expect
      .poll(() => page.locator('tr[data-address="198.51.100.8"]').textContent())
      .toMatch(/\(\w\w\).*AS645/);
    await screenshot(page, 'incident');
  });

  it('changes the state from the page and shows the 409 problem of an illegal change', async () => {
    await page.getByLabel('Reason').first().fill('looked at it');
    await page.getByRole('button', { name: 'Mark triaged' }).click();
    await page.getByText('State changed to triaged.').waitFor();
    await expect
      .poll(async () => (await centre.store.getIncident('inc-ddos-1'))?.incident.state)
      .toBe('triaged');
    await expect.poll(() => page.locator('.incident-head .badge.state-triaged').count()).toBe(1);
    await page.getByRole('button', { name: 'Mark new' }).click();
    const problem = page.getByRole('alert').filter({ hasText: 'State change refused' });
    await problem.waitFor();
    expect(await problem.textContent()).toContain('409 ERR_INCIDENT_TRANSITION');
    await screenshot(page, 'incident-409');
  });

  it('marks an alert as a false positive with a reason, creating a suppression rule', async () => {
    const alert = page.locator('details.alert[data-alert="alert-inc-ddos-1"]');
    if ((await alert.getAttribute('open')) === null) await alert.locator('summary').click();
    await alert.getByRole('button', { name: 'False positive…' }).click();
    await alert.getByLabel('Why is this a false positive?').fill('load test by the operator');
    await alert.getByRole('button', { name: 'Create suppression rule' }).click();
    await alert.getByText('Suppression rule fp-alert-inc-ddos-1 created.').waitFor();
    const rules = await centre.store.listSuppressions();
    expect(rules.map((r) => [r.id, r.reason])).toEqual([
      ['fp-alert-inc-ddos-1', 'load test by the operator'],
    ]);
  });

  it('filters incidents through shareable URLs', async () => {
    await page.goto(`${centre.url}/#/incidents?severity=critical`);
    await page.locator('tr[data-incident="inc-ddos-1"]').waitFor();
    // The list re-renders when the filtered page arrives: wait for it rather than count once.
    await expect.poll(() => page.locator('tr[data-incident]').count()).toBe(1);
    expect(await page.locator('select[name="severity"]').inputValue()).toBe('critical');
    await page.goto(`${centre.url}/#/incidents?q=198.51.100.2`);
    // The previous filter's single row stays until the new page arrives: wait for the new row.
    await page.locator('tr[data-incident="inc-seed-2"]').waitFor();
    await expect.poll(() => page.locator('tr[data-incident]').count()).toBe(1);
  });

  it('colours the source countries on the map and lists the top-N', async () => {
    await page.goto(`${centre.url}/#/map?range=1h`);
    await expect.poll(() => page.locator('path.country').count()).toBeGreaterThan(150);
    // CN (156) has the most records.
    await expect.poll(() => page.locator('path.country.lvl-5[data-country="156"]').count()).toBe(1);
    expect(await page.locator('#top-sourceCountry tbody tr').first().textContent()).toContain('CN');
    await expect.poll(() => page.locator('#top-destinationPort tbody tr').count()).toBe(4);
    await screenshot(page, 'map-light');
  });

  it('is keyboard reachable and has a dark theme', async () => {
    await page.goto(`${centre.url}/#/overview`);
    // A fresh document, so that tabbing starts at the top.
    await page.reload();
    await page.locator('header.top nav').waitFor();
    const focused: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      focused.push(await page.evaluate('document.activeElement?.textContent ?? ""'));
    }
    expect(focused.slice(0, 3)).toEqual(['Skip to content', 'Overview', 'Incidents']);
    await page.getByRole('button', { name: /Switch to dark theme/ }).click();
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    await page.waitForTimeout(500);
    await screenshot(page, 'overview-dark');
    await page.goto(`${centre.url}/#/map`);
    await expect.poll(() => page.locator('path.country.lvl-5').count()).toBeGreaterThan(0);
    await screenshot(page, 'map-dark');
    // Narrow screens: the page itself does not scroll sideways (wide tables scroll in their cards).
    await page.setViewportSize({ width: 420, height: 900 });
    await page.goto(`${centre.url}/#/overview`);
    await page.getByTestId('records-total').waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(420);
    await screenshot(page, 'overview-narrow-dark');
  });

  it('shows the sign-in view without a token and after a refused one', async () => {
    const context = await browser.newContext();
    const p = await context.newPage();
    await p.goto(`${centre.url}/#/incidents`);
    await p.getByLabel('Access token').fill('not-the-right-token-at-all');
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByText('Sign-in failed').waitFor();
    expect(await p.getByRole('alert').textContent()).toContain('401');
    await screenshot(p, 'sign-in-refused');
    await p.getByLabel('Access token').fill(TOKEN);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.locator('tr[data-incident]').first().waitFor();
    await context.close();
  });
  it('logs in with user and password: HttpOnly session cookie, a state change with the CSRF token, sign out', async () => {
    await centre.addIncident('inc-login-1', { subject: '192.0.2.77', severity: 'high' });
    const context = await browser.newContext();
    const p = await context.newPage();
    await p.goto(`${centre.url}/#/incidents`);
    await p.getByLabel('User', { exact: true }).fill(USER);
    await p.getByLabel('Password', { exact: true }).fill('wrong password 000');
    await p.getByRole('button', { name: 'Log in' }).click();
    await p.getByText('Sign-in failed').waitFor();
    await p.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await p.getByRole('button', { name: 'Log in' }).click();
    await p.locator('tr[data-incident]').first().waitFor();
    const session = (await context.cookies()).find((c) => c.name === 'acd_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(await p.evaluate('sessionStorage.getItem("acd.token")')).toBeNull();
    await screenshot(p, 'signed-in-by-password');

    await p.goto(`${centre.url}/#/incidents/inc-login-1`);
    await p.getByLabel('Reason').first().fill('checked by password user');
    await p.getByRole('button', { name: 'Mark triaged' }).click();
    await p.getByText('State changed to triaged.').waitFor();
    const changed = await centre.store.getIncident('inc-login-1');
    expect(changed?.incident.history.at(-1)?.actor).toBe(USER);

    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.getByLabel('Access token').waitFor();
    const after = await p.evaluate(async () => (await fetch('/api/me')).status);
    expect(after).toBe(401);
    await context.close();
  });
});
