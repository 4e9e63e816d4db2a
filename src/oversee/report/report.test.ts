/**
 * The transparency report as a specification: its totals reconcile with a generated store whose
 * expected counts are computed from the generator's plans (never from the report code), figures
 * no feature produces are "not available" (never 0), the three renderings, the period parser and
 * the readers of stored bodies under arbitrary input, and the API route's access and formats.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.ts';
import {
  legalParametersFrom,
  shippedLegalParameterFile,
  shippedLegalParameters,
} from '../../common/legal/index.ts';
import { defaultServeConfig } from '../../serve/config.ts';
import { createServer } from '../../serve/server.ts';
import { testDeps, tokenOf } from '../../serve/testing.ts';
import { MemoryStore } from '../../store/index.ts';
import type { CaseRecord } from '../../store/types.ts';
import {
  buildTransparencyReport,
  escapeMarkdown,
  isNotAvailable,
  parseReportPeriod,
  renderHtml,
  renderJson,
  renderMarkdown,
  reportPlugin,
  ReportPeriodError,
  TRANSPARENCY_REPORT_PATH,
  type TransparencyReport,
} from './index.ts';
import { readApprovalCase, readCertificate, readCommunication } from './read.ts';
import { expectedCounts, loadFixture, reportFixture } from './testing.ts';

const legal = shippedLegalParameters();
const FROM = Date.UTC(2026, 2, 1);
const TO = Date.UTC(2026, 3, 1);
const clock = new ManualClock(Date.UTC(2026, 4, 1));

function section<T>(s: T | { available: false; reason: string }): T {
  if (isNotAvailable(s)) throw new Error(`section not available: ${s.reason}`);
  return s;
}

describe('transparency report', () => {
  const store = new MemoryStore();
  const fx = reportFixture(7, Date.UTC(2026, 0, 15), 120, {
    cases: 400,
    communications: 150,
    reids: 60,
    incidents: 200,
    alerts: 1500,
    records: 3000,
    audit: 2500,
  });
  let report: TransparencyReport;
  beforeAll(async () => {
    await store.open();
    await loadFixture(store, fx);
    report = await buildTransparencyReport(store, { from: FROM, to: TO, legal, clock });
  });

  it('reconciles every approval figure per kind with the stored cases', () => {
    const want = expectedCounts(fx, FROM, TO);
    const a = section(report.sections.approvals);
    for (const [kind, f] of Object.entries(want.byKind)) expect(a.byKind[kind], kind).toEqual(f);
    expect(Object.keys(a.byKind).sort()).toEqual(Object.keys(want.byKind).sort());
    for (const k of ['requested', 'approved', 'rejected', 'revoked', 'expired', 'pendingAtEnd'] as const)
      expect(a.total[k], k).toBe(Object.values(want.byKind).reduce((s, f) => s + f[k]!, 0));
    expect(a.emergency).toEqual(want.emergency);
    expect(a.malformed).toBe(2);
    expect(a.casesScanned).toBe(fx.cases.length + 2);
    // The fixture is not trivial: each figure has cases inside the period.
    expect(a.total.requested).toBeGreaterThan(20);
    expect(a.total.revoked).toBeGreaterThan(0);
    expect(a.emergency.overdueNotifications).toBeGreaterThan(0);
  });

  it('reconciles measures, communications, re-identifications and retention', () => {
    const want = expectedCounts(fx, FROM, TO);
    expect(section(report.sections.measures)).toEqual(want.measures);
    expect(want.measures.total).toBeGreaterThan(0);
    const c = section(report.sections.communications);
    expect(c.byType).toEqual(want.communications.byType);
    expect({ total: c.total, answered: c.answered, overdue: c.overdue }).toEqual({
      total: want.communications.total,
      answered: want.communications.answered,
      overdue: want.communications.overdue,
    });
    expect(c.malformed).toBe(1);
    expect(section(report.sections.reidentifications)).toEqual(want.reidentifications);
    const r = section(report.sections.retention);
    expect({ certificates: r.certificates, rowsDeleted: r.rowsDeleted }).toEqual(want.retention);
    expect(Object.values(r.byTable).reduce((s, n) => s + n, 0)).toBe(r.rowsDeleted);
  });

  it('counts inspections as distinct inspector-days plus audit exports and verifications', () => {
    const want = expectedCounts(fx, FROM, TO).inspections;
    const i = section(report.sections.inspections);
    expect({
      inspectorDays: i.inspectorDays,
      inspectors: i.inspectors,
      inspectorEntries: i.inspectorEntries,
      auditExports: i.auditExports,
      auditVerifications: i.auditVerifications,
    }).toEqual(want);
    expect(i.auditEntriesScanned).toBe(fx.audit.filter((e) => e.at >= FROM && e.at < TO).length);
  });

  it('reconciles the service statistics with records, alerts and incidents', () => {
    const want = expectedCounts(fx, FROM, TO).service;
    const s = report.sections.service;
    expect(s.recordsSelected).toBe(want.recordsSelected);
    expect(s.alerts).toBe(want.alerts);
    expect(s.alertsByDetector).toEqual(want.alertsByDetector);
    expect(s.incidents).toBe(want.incidents);
    const bySector = s.incidentsBySector as Record<string, number>;
    for (const [k, n] of Object.entries(want.incidentsBySector)) expect(bySector[k], k).toBe(n);
    expect(Object.keys(bySector)).toEqual(report.sectors);
    expect(s.operatorNotifications).toBe(want.operatorNotifications);
    expect(s.mitigated).toBe(want.mitigated);
    expect(s.medianTimeToMitigateMs).toBe(want.medianTimeToMitigateMs);
  });

  it('records the legal-parameter version and the sectors it used', () => {
    expect(report.format).toBe('acd.transparency-report/1');
    expect(report.period).toEqual({ from: '2026-03-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' });
    expect(report.generatedAt).toBe('2026-05-01T00:00:00.000Z');
    expect(report.parameterVersion).toBe('jp-2025-05.1');
    expect(report.parameterVersions).toEqual(['jp-2025-05.1']);
    expect(report.sectors).toHaveLength(15);
  });

  it('reports the sections the legal parameters require; a future-dated version changes only later periods (R-NF-2)', async () => {
    const file = shippedLegalParameterFile();
    const base = file.versions[0]!;
    const later = {
      ...base,
      version: 'later-1',
      effectiveFrom: new Date(TO + 86_400_000).toISOString(),
      reportSections: base.reportSections!.filter((x) => x !== 'reidentifications'),
    };
    const table = legalParametersFrom([{ label: 'test', value: { ...file, versions: [base, later] } }]);
    const today = await buildTransparencyReport(store, { from: FROM, to: TO, legal: table, clock });
    expect(today.sections).toEqual(report.sections);
    const after = await buildTransparencyReport(store, {
      from: TO + 86_400_000,
      to: TO + 2 * 86_400_000,
      legal: table,
      clock,
    });
    expect(after.parameterVersion).toBe('later-1');
    const reid = after.sections.reidentifications;
    expect(isNotAvailable(reid) && reid.reason).toBe('not a report field of legal-parameter version later-1');
    expect(isNotAvailable(after.sections.approvals)).toBe(false);
  });

  it('marks figures no feature produces as not available, never 0', async () => {
    const takedowns = report.sections.service.takedowns;
    expect(isNotAvailable(takedowns) && takedowns.reason.length > 0).toBe(true);
    const empty = new MemoryStore();
    await empty.open();
    const r = await buildTransparencyReport(empty, { from: FROM, to: TO, legal, clock });
    expect(isNotAvailable(r.sections.service.medianTimeToMitigateMs)).toBe(true);
    expect(r.sections.service.mitigated).toBe(0);
    for (const text of [renderMarkdown(r), renderHtml(r)]) {
      expect(text).toMatch(/Takedowns.*not available/);
      expect(text).toMatch(/Median time to mitigate.*not available/);
      expect(text).not.toMatch(/Takedowns\W+0\b/);
    }
  });

  it('makes a section not available when a read bound is reached, instead of a wrong count', async () => {
    const r = await buildTransparencyReport(store, {
      from: FROM,
      to: TO,
      legal,
      clock,
      limits: { maxCases: 10, maxAlerts: 10, maxAuditEntries: 10 },
    });
    expect(isNotAvailable(r.sections.approvals)).toBe(true);
    expect(isNotAvailable(r.sections.measures)).toBe(true);
    expect(isNotAvailable(r.sections.inspections)).toBe(true);
    expect(isNotAvailable(r.sections.service.alerts)).toBe(true);
    expect(renderMarkdown(r)).toMatch(
      /## Approval cases[^\n]*\n\n- Whole section: not available \(more than 10/,
    );
  });

  it('refuses an empty or reversed period and one before the first legal-parameter version', async () => {
    await expect(buildTransparencyReport(store, { from: TO, to: FROM, legal, clock })).rejects.toBeInstanceOf(
      ReportPeriodError,
    );
    await expect(
      buildTransparencyReport(store, { from: Date.UTC(2020, 0, 1), to: Date.UTC(2020, 1, 1), legal, clock }),
    ).rejects.toBeInstanceOf(ReportPeriodError);
  });
});

describe('report renderings', () => {
  async function hostileReport(): Promise<TransparencyReport> {
    const store = new MemoryStore();
    await store.open();
    const hostile = '<script>alert(1)</script>|**x**';
    await store.putCase({
      id: 'h-1',
      kind: 'approval-case',
      state: 'submitted',
      createdAt: FROM,
      updatedAt: FROM,
      body: {
        kind: hostile,
        validFrom: FROM,
        validUntil: TO,
        history: [{ at: FROM + 1, to: 'submitted' }],
      },
    });
    return buildTransparencyReport(store, { from: FROM, to: TO, legal, clock });
  }

  it('renders Markdown with one table row per kind and the totals', async () => {
    const r = await hostileReport();
    const md = renderMarkdown(r);
    expect(md).toMatch(/^# Transparency report 2026-03-01 – 2026-04-01\n/);
    expect(md).toContain('| acquisition | 0 | 0 | 0 | 0 | 0 | 0 |');
    expect(md).toContain('| Total | 1 | 0 | 0 | 0 | 0 | 1 |');
    // The hostile kind is escaped: no raw HTML, no broken table cell, no emphasis.
    expect(md).toContain('\\<script\\>alert(1)\\</script\\>\\|\\*\\*x\\*\\*');
    expect(md).not.toContain('<script>');
  });

  it('renders a self-contained HTML page without script, escaping hostile text', async () => {
    const html = renderHtml(await hostileReport());
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;|**x**');
    expect(html).not.toMatch(/\b(src|href)=/);
  });

  it('renders pretty JSON that parses back to the report', async () => {
    const r = await hostileReport();
    const text = renderJson(r);
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toEqual(r);
    expect(text).toContain('\n  "format": "acd.transparency-report/1",');
  });

  it('escapes every Markdown-significant character of any text (property)', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const e = escapeMarkdown(s);
        expect(e).not.toMatch(/(^|[^\\])[|<>`*_[\]]/);
        expect(e).not.toMatch(/[\r\n]/);
      }),
    );
  });
});

describe('report inputs under arbitrary data', () => {
  it('parses periods into [from, to) or throws ReportPeriodError only (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
        ),
        fc.oneof(
          fc.string(),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        ),
        (a, b) => {
          try {
            const p = parseReportPeriod(a, b);
            expect(p.from).toBeLessThan(p.to);
          } catch (err) {
            expect(err).toBeInstanceOf(ReportPeriodError);
          }
        },
      ),
    );
    expect(parseReportPeriod('2026-03-01', '2026-03-31')).toEqual({ from: FROM, to: TO });
    expect(parseReportPeriod('2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z')).toEqual({ from: FROM, to: TO });
  });

  it('reads any stored body without throwing; a report over arbitrary bodies never throws (property)', async () => {
    const body = fc.oneof(
      fc.dictionary(fc.string(), fc.jsonValue()),
      fc.record({
        kind: fc.oneof(fc.string(), fc.constant('__proto__')),
        validFrom: fc.oneof(fc.integer(), fc.double()),
        validUntil: fc.integer(),
        history: fc.array(fc.record({ at: fc.oneof(fc.integer(), fc.string()), to: fc.string() })),
        emergency: fc.option(fc.record({ actedAt: fc.integer(), notifyBy: fc.integer() }), {
          nil: undefined,
        }),
        counts: fc.dictionary(fc.string(), fc.oneof(fc.nat(), fc.double())),
        runAt: fc.integer(),
        type: fc.string(),
        direction: fc.constantFrom('from-commission', 'to-commission', 'x'),
        createdAt: fc.integer(),
        responses: fc.array(fc.record({ at: fc.integer() })),
      }),
    ) as fc.Arbitrary<Record<string, unknown>>;
    const kinds = fc.constantFrom(
      'approval-case',
      'communication',
      'deletion-certificate',
      'reidentification',
    );
    fc.assert(
      fc.property(kinds, body, (kind, b) => {
        const c: CaseRecord = { id: 'x', kind, state: 's', createdAt: 0, updatedAt: 0, body: b };
        readApprovalCase(c);
        readCommunication(c);
        readCertificate(c);
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(kinds, body), { maxLength: 8 }), async (items) => {
        const s = new MemoryStore();
        await s.open();
        for (const [i, [kind, b]] of items.entries())
          await s.putCase({
            id: `c${i}`,
            kind,
            state: 'submitted',
            createdAt: FROM,
            updatedAt: FROM,
            body: b,
          });
        const r = await buildTransparencyReport(s, { from: FROM, to: TO, legal, clock });
        renderHtml(r);
        renderMarkdown(r);
        JSON.parse(renderJson(r));
      }),
      { numRuns: 60 },
    );
  });
});

describe('GET /api/reports/transparency', () => {
  function make() {
    const deps = testDeps({ plugins: [reportPlugin({ legal })] });
    const server = createServer(deps, defaultServeConfig({ port: 0 }));
    return { deps, server };
  }
  const as = (role: 'inspector' | 'analyst' | 'supervisor' | 'administrator') => ({
    authorization: `Bearer ${tokenOf(role)}`,
  });

  it('answers JSON, Markdown and HTML to inspectors, supervisors and administrators', async () => {
    const { deps, server } = make();
    await deps.store.open();
    const url = `${TRANSPARENCY_REPORT_PATH}?from=2026-03-01&to=2026-03-31`;
    const json = await server.app.inject({ url, headers: as('inspector') });
    expect(json.statusCode, json.body).toBe(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    const r = JSON.parse(json.body) as TransparencyReport;
    expect(r.period).toEqual({ from: '2026-03-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' });
    const md = await server.app.inject({ url: `${url}&format=md`, headers: as('supervisor') });
    expect(md.statusCode).toBe(200);
    expect(md.headers['content-type']).toMatch(/^text\/markdown/);
    expect(md.body).toMatch(/^# Transparency report/);
    const html = await server.app.inject({ url: `${url}&format=html`, headers: as('administrator') });
    expect(html.statusCode).toBe(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(html.body).not.toMatch(/<script/i);
    await server.stop();
  });

  it('refuses analysts (403) and bad or reversed dates (400)', async () => {
    const { deps, server } = make();
    await deps.store.open();
    const ok = `${TRANSPARENCY_REPORT_PATH}?from=2026-03-01&to=2026-03-31`;
    expect((await server.app.inject({ url: ok, headers: as('analyst') })).statusCode).toBe(403);
    expect((await server.app.inject({ url: ok })).statusCode).toBe(401);
    for (const q of [
      'from=2026-13-01&to=2026-03-31',
      'from=2026-03-31&to=2026-03-01',
      'from=x&to=y',
      'from=2026-03-01&to=2026-03-31&format=pdf',
    ]) {
      const res = await server.app.inject({
        url: `${TRANSPARENCY_REPORT_PATH}?${q}`,
        headers: as('inspector'),
      });
      expect(res.statusCode, q).toBe(400);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    }
    await server.stop();
  });
});
