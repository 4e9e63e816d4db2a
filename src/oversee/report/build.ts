/**
 * Builds the transparency report of a period (issue 8, REQUIREMENTS R-OVS-7, R-NF-2) from the
 * store alone: approval cases, communications, deletion certificates and re-identifications (the
 * `cases` table, bodies of `src/common/schema/case.ts`), the audit log, the rollups, alerts and
 * incidents. Every read is paged with `MAX_LIMIT` and bounded by {@link ReportLimits}; a section
 * whose bound is reached becomes "not available" (with the reason) instead of a wrong number.
 * What each figure counts is written on its type (types.ts) and in this folder's README.
 */
import type { Clock } from '../../common/clock.ts';
import type { LegalParameters, LegalParameterTable, ReportSectionName } from '../../common/legal/index.ts';
import { COMMUNICATION_TYPES } from '../../common/schema/case.ts';
import {
  ALERTS_PROVIDER,
  MAX_LIMIT,
  MAX_SERIES_POINTS,
  type CaseRecord,
  type Page,
  type Store,
} from '../../store/types.ts';
import { ReportPeriodError } from './errors.ts';
import {
  readApprovalCase,
  readCertificate,
  readCommunication,
  firstStepTo,
  stateBefore,
  type ApprovalCaseView,
} from './read.ts';
import {
  notAvailable,
  TRANSPARENCY_REPORT_FORMAT,
  type ApprovalFigures,
  type ApprovalsSection,
  type CommunicationFigures,
  type CommunicationsSection,
  type Figure,
  type InspectionsSection,
  type MeasuresSection,
  type ReidentificationsSection,
  type RetentionSection,
  type Section,
  type ServiceSection,
  type TransparencyReport,
} from './types.ts';

/** How much one report may read; reaching a bound makes the section "not available". */
export interface ReportLimits {
  /** Records read per case kind (approval cases, communications, certificates, re-identifications). */
  maxCases: number;
  /** Audit entries read in the period. */
  maxAuditEntries: number;
  /** Alerts read (those overlapping the period). */
  maxAlerts: number;
  /** Incidents read (all of them: a notification in the period may concern an older incident). */
  maxIncidents: number;
}

/** Default bounds: far above a national centre's yearly volume of cases, yet bounded. */
export const DEFAULT_REPORT_LIMITS: Readonly<ReportLimits> = {
  maxCases: 100_000,
  maxAuditEntries: 2_000_000,
  maxAlerts: 500_000,
  maxIncidents: 200_000,
};

/** Longest period one report covers (ten years): bounds the rollup reads. */
export const MAX_REPORT_PERIOD_MS = 3660 * 86_400_000;

/** Span of one rollup read: 7 days of hours stays far below `MAX_SERIES_POINTS` for ≤ 100 providers. */
const SERIES_CHUNK_MS = 7 * 86_400_000;

const DAY_MS = 86_400_000;

/** Options of {@link buildTransparencyReport}. */
export interface BuildReportOptions {
  /** Period `[from, to)`, epoch ms. */
  from: number;
  to: number;
  legal: LegalParameterTable;
  clock: Clock;
  limits?: Partial<ReportLimits>;
}

/** Approval kinds with the police and SDF measures of "measures taken". */
const MEASURE_KINDS = { police: 'police-measure', sdf: 'sdf-measure' } as const;

function inPeriod(t: number | undefined, from: number, to: number): t is number {
  return t !== undefined && t >= from && t < to;
}

/** Reads every page of a paged read, visiting each item; false when more than `max` items exist. */
async function pageAll<T>(
  read: (cursor: string | undefined) => Promise<Page<T>>,
  max: number,
  visit: (item: T) => void,
): Promise<boolean> {
  let cursor: string | undefined;
  let seen = 0;
  for (;;) {
    const page = await read(cursor);
    seen += page.items.length;
    if (seen > max) return false;
    for (const item of page.items) visit(item);
    // A cursor that does not move would loop forever: stop (the store's contract forbids it).
    if (page.next === null || page.next === cursor || page.items.length === 0) return true;
    cursor = page.next;
  }
}

async function scanCases(
  store: Store,
  kind: string,
  max: number,
  visit: (c: CaseRecord) => void,
): Promise<boolean> {
  return pageAll(
    (cursor) => store.listCases({ kind, limit: MAX_LIMIT, ...(cursor !== undefined ? { cursor } : {}) }),
    max,
    visit,
  );
}

function tooMany(what: string, max: number): ReturnType<typeof notAvailable> {
  return notAvailable(`more than ${max} ${what} stored: beyond what one report reads`);
}

function zeroFigures(): ApprovalFigures {
  return { requested: 0, approved: 0, rejected: 0, revoked: 0, expired: 0, pendingAtEnd: 0 };
}

/** Versions in force at some time in `[from, to)`, oldest first. */
function versionsInForce(legal: LegalParameterTable, from: number, to: number): string[] {
  const all = legal.versions();
  return all
    .filter((v, i) => v.effectiveFrom < to && (i + 1 >= all.length || all[i + 1]!.effectiveFrom > from))
    .map((v) => v.version);
}

function approvalsAndMeasures(
  cases: readonly ApprovalCaseView[],
  malformed: number,
  params: LegalParameters,
  from: number,
  to: number,
): { approvals: ApprovalsSection; measures: MeasuresSection } {
  const byKind = new Map<string, ApprovalFigures>();
  for (const k of params.approvalKinds.keys()) byKind.set(k, zeroFigures());
  const emergency = { acted: 0, notifiedInTime: 0, overdueNotifications: 0 };
  const measures = { policeMeasures: 0, sdfMeasures: 0, total: 0 };
  for (const c of cases) {
    let f = byKind.get(c.kind);
    if (f === undefined) {
      f = zeroFigures();
      byKind.set(c.kind, f);
    }
    for (const h of c.history) {
      if (!inPeriod(h.at, from, to)) continue;
      if (h.to === 'submitted') f.requested++;
      else if (h.to === 'approved') f.approved++;
      else if (h.to === 'rejected') f.rejected++;
      else if (h.to === 'revoked') f.revoked++;
      else if (h.to === 'expired') f.expired++;
    }
    if (stateBefore(c.history, to) === 'submitted') f.pendingAtEnd++;
    const e = c.emergency;
    if (e !== undefined) {
      if (inPeriod(e.actedAt, from, to)) {
        emergency.acted++;
        if (e.notifiedAt !== undefined && e.notifiedAt <= e.notifyBy) emergency.notifiedInTime++;
      }
      if (inPeriod(e.notifyBy, from, to) && (e.notifiedAt === undefined || e.notifiedAt > e.notifyBy))
        emergency.overdueNotifications++;
    }
    if (c.kind === MEASURE_KINDS.police || c.kind === MEASURE_KINDS.sdf) {
      const approvedAt = firstStepTo(c.history, 'approved');
      if (approvedAt === undefined) continue;
      const ends = [c.validUntil, firstStepTo(c.history, 'revoked'), firstStepTo(c.history, 'expired')];
      const start = Math.max(c.validFrom, approvedAt);
      const end = Math.min(...ends.filter((t): t is number => t !== undefined));
      if (start < end && start < to && end > from) {
        if (c.kind === MEASURE_KINDS.police) measures.policeMeasures++;
        else measures.sdfMeasures++;
        measures.total++;
      }
    }
  }
  const total = zeroFigures();
  for (const f of byKind.values())
    for (const k of Object.keys(total) as (keyof ApprovalFigures)[]) total[k] += f[k];
  return {
    approvals: {
      byKind: Object.fromEntries(byKind),
      total,
      emergency,
      casesScanned: cases.length + malformed,
      malformed,
    },
    measures,
  };
}

async function approvalSections(
  store: Store,
  params: LegalParameters,
  from: number,
  to: number,
  limits: ReportLimits,
): Promise<{ approvals: Section<ApprovalsSection>; measures: Section<MeasuresSection> }> {
  const cases: ApprovalCaseView[] = [];
  let malformed = 0;
  const complete = await scanCases(store, 'approval-case', limits.maxCases, (c) => {
    const v = readApprovalCase(c);
    if (v === undefined) malformed++;
    else cases.push(v);
  });
  if (!complete) {
    const na = tooMany('approval cases', limits.maxCases);
    return { approvals: na, measures: na };
  }
  return approvalsAndMeasures(cases, malformed, params, from, to);
}

async function communicationsSection(
  store: Store,
  from: number,
  to: number,
  limits: ReportLimits,
): Promise<Section<CommunicationsSection>> {
  const byType = new Map<string, CommunicationFigures>(
    COMMUNICATION_TYPES.map((t) => [t, { fromCommission: 0, toCommission: 0 }]),
  );
  const s = { total: 0, answered: 0, overdue: 0, malformed: 0 };
  const complete = await scanCases(store, 'communication', limits.maxCases, (c) => {
    const v = readCommunication(c);
    if (v === undefined) {
      s.malformed++;
      return;
    }
    if (inPeriod(v.createdAt, from, to)) {
      let f = byType.get(v.type);
      if (f === undefined) {
        f = { fromCommission: 0, toCommission: 0 };
        byType.set(v.type, f);
      }
      if (v.direction === 'from-commission') f.fromCommission++;
      else f.toCommission++;
      s.total++;
      if (v.firstResponseAt !== undefined && v.firstResponseAt < to) s.answered++;
    }
    if (inPeriod(v.dueAt, from, to) && (v.firstResponseAt === undefined || v.firstResponseAt > v.dueAt))
      s.overdue++;
  });
  if (!complete) return tooMany('communications', limits.maxCases);
  return { byType: Object.fromEntries(byType), ...s };
}

async function reidentificationsSection(
  store: Store,
  from: number,
  to: number,
  limits: ReportLimits,
): Promise<Section<ReidentificationsSection>> {
  const s = { requested: 0, answered: 0, refused: 0 };
  const complete = await scanCases(store, 'reidentification', limits.maxCases, (c) => {
    if (inPeriod(c.createdAt, from, to)) s.requested++;
    if (inPeriod(c.updatedAt, from, to)) {
      if (c.state === 'answered') s.answered++;
      else if (c.state === 'refused') s.refused++;
    }
  });
  return complete ? s : tooMany('re-identification requests', limits.maxCases);
}

async function retentionSection(
  store: Store,
  from: number,
  to: number,
  limits: ReportLimits,
): Promise<Section<RetentionSection>> {
  let certificates = 0;
  let rowsDeleted = 0;
  const byTable = new Map<string, number>();
  const complete = await scanCases(store, 'deletion-certificate', limits.maxCases, (c) => {
    const v = readCertificate(c);
    if (v === undefined || !inPeriod(v.runAt, from, to)) return;
    certificates++;
    for (const [table, n] of Object.entries(v.counts)) {
      rowsDeleted += n;
      byTable.set(table, (byTable.get(table) ?? 0) + n);
    }
  });
  if (!complete) return tooMany('deletion certificates', limits.maxCases);
  return {
    certificates,
    rowsDeleted,
    byTable: Object.fromEntries([...byTable].sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

/** Exports: CLI/job actions `audit.export…` or API routes under `/audit/export`. */
const EXPORT_ACTION = /^(audit\.export|[A-Z]+ \S*\/audit\/export(\/|$|\?))/;
/** Verifications: `audit.verify…` or API routes under `/audit/verify`. */
const VERIFY_ACTION = /^(audit\.verify|[A-Z]+ \S*\/audit\/verify(\/|$|\?))/;

/** The first audit seq whose `at` ≥ t (the chain is appended in time order), in `[1, last + 1]`. */
async function firstSeqAtOrAfter(store: Store, t: number, last: number): Promise<number> {
  let lo = 1;
  let hi = last + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const [e] = await store.readAudit(mid, 1);
    if (e === undefined || e.at >= t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

async function inspectionsSection(
  store: Store,
  from: number,
  to: number,
  limits: ReportLimits,
): Promise<Section<InspectionsSection>> {
  const last = (await store.lastAudit())?.seq ?? 0;
  const s = { inspectorEntries: 0, auditExports: 0, auditVerifications: 0, auditEntriesScanned: 0 };
  const inspectors = new Set<string>();
  const days = new Set<string>();
  let seq = await firstSeqAtOrAfter(store, from, last);
  while (seq <= last) {
    const batch = await store.readAudit(seq, MAX_LIMIT);
    if (batch.length === 0) break;
    let done = false;
    for (const e of batch) {
      if (e.at >= to) {
        done = true;
        break;
      }
      if (++s.auditEntriesScanned > limits.maxAuditEntries)
        return notAvailable(`more than ${limits.maxAuditEntries} audit entries in the period`);
      if (e.role === 'inspector' && e.purpose === 'oversight') {
        s.inspectorEntries++;
        inspectors.add(e.actor);
        days.add(`${e.actor}\u0000${Math.floor(e.at / DAY_MS)}`);
      }
      if (EXPORT_ACTION.test(e.action)) s.auditExports++;
      else if (VERIFY_ACTION.test(e.action)) s.auditVerifications++;
    }
    if (done) break;
    seq = batch[batch.length - 1]!.seq + 1;
  }
  return { inspectorDays: days.size, inspectors: inspectors.size, ...s };
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

async function recordsSelected(store: Store, from: number, to: number): Promise<Figure> {
  let records = 0;
  for (let t = from; t < to; t += SERIES_CHUNK_MS) {
    const points = await store.series({ step: '1h', from: t, to: Math.min(to, t + SERIES_CHUNK_MS) });
    if (points.length >= MAX_SERIES_POINTS)
      return notAvailable('too many providers for the hourly rollups to be read in bounded pieces');
    for (const p of points) if (p.providerId !== ALERTS_PROVIDER) records += p.records;
  }
  return records;
}

async function serviceSection(
  store: Store,
  params: LegalParameters,
  from: number,
  to: number,
  limits: ReportLimits,
): Promise<ServiceSection> {
  let alerts = 0;
  const byDetector = new Map<string, number>();
  const alertsComplete = await pageAll(
    (cursor) =>
      store.listAlerts({
        since: from,
        until: to,
        limit: MAX_LIMIT,
        ...(cursor !== undefined ? { cursor } : {}),
      }),
    limits.maxAlerts,
    (a) => {
      if (!inPeriod(a.firstSeen, from, to)) return;
      alerts++;
      byDetector.set(a.detector, (byDetector.get(a.detector) ?? 0) + 1);
    },
  );

  let incidents = 0;
  let notified = 0;
  const toMitigate: number[] = [];
  const bySector = new Map<string, number>(params.sectors.map((s) => [s, 0]));
  const incidentsComplete = await pageAll(
    (cursor) => store.listIncidents({ limit: MAX_LIMIT, ...(cursor !== undefined ? { cursor } : {}) }),
    limits.maxIncidents,
    (i) => {
      if (inPeriod(i.firstSeen, from, to)) {
        incidents++;
        for (const s of new Set(i.sectors)) {
          const n = bySector.get(s);
          if (n !== undefined) bySector.set(s, n + 1);
        }
      }
      const notifiedAt = firstStepTo(i.history, 'notified');
      if (inPeriod(notifiedAt, from, to)) notified++;
      const mitigatedAt = firstStepTo(i.history, 'mitigated');
      if (inPeriod(mitigatedAt, from, to)) toMitigate.push(Math.max(0, mitigatedAt - i.firstSeen));
    },
  );

  const alertsNa = tooMany('alerts overlapping the period', limits.maxAlerts);
  const incidentsNa = tooMany('incidents', limits.maxIncidents);
  const med = median(toMitigate);
  return {
    recordsSelected: await recordsSelected(store, from, to),
    alerts: alertsComplete ? alerts : alertsNa,
    alertsByDetector: alertsComplete
      ? Object.fromEntries([...byDetector].sort(([a], [b]) => (a < b ? -1 : 1)))
      : alertsNa,
    incidents: incidentsComplete ? incidents : incidentsNa,
    incidentsBySector: incidentsComplete ? Object.fromEntries(bySector) : incidentsNa,
    operatorNotifications: incidentsComplete ? notified : incidentsNa,
    mitigated: incidentsComplete ? toMitigate.length : incidentsNa,
    medianTimeToMitigateMs: !incidentsComplete
      ? incidentsNa
      : med === undefined
        ? notAvailable('no incident reached mitigated in the period')
        : med,
    takedowns: notAvailable('no feature records takedown notices yet (R-RSP-1 countermeasures)'),
  };
}

/** Checks a period; throws `ReportPeriodError`. */
export function checkReportPeriod(from: number, to: number): void {
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw new ReportPeriodError('the period is not finite');
  if (from >= to) throw new ReportPeriodError('the period must start before it ends');
  if (to - from > MAX_REPORT_PERIOD_MS)
    throw new ReportPeriodError(`the period is longer than ${MAX_REPORT_PERIOD_MS / DAY_MS} days`);
}

/**
 * Builds the report of `[from, to)`. Throws `ReportPeriodError` for an empty, reversed or too
 * long period, or one that ends before the first legal-parameter version.
 */
export async function buildTransparencyReport(
  store: Store,
  options: BuildReportOptions,
): Promise<TransparencyReport> {
  const { from, to, legal, clock } = options;
  checkReportPeriod(from, to);
  const limits: ReportLimits = { ...DEFAULT_REPORT_LIMITS, ...options.limits };
  const first = legal.versions()[0];
  if (first === undefined || first.effectiveFrom >= to)
    throw new ReportPeriodError('the period ends before the first legal-parameter version takes effect');
  const params = legal.parametersAt(to - 1);
  const { approvals, measures } = await approvalSections(store, params, from, to, limits);
  // Report fields are legal parameters (R-NF-2): a section the version in force at the end of the
  // period does not require is marked, never silently dropped or shown as zero.
  const required = new Set<string>(params.reportSections);
  const field = <T>(name: ReportSectionName, value: Section<T>): Section<T> =>
    required.has(name)
      ? value
      : notAvailable(`not a report field of legal-parameter version ${params.version}`);
  return {
    format: TRANSPARENCY_REPORT_FORMAT,
    period: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    generatedAt: new Date(clock.now()).toISOString(),
    parameterVersion: params.version,
    parameterVersions: versionsInForce(legal, from, to),
    sectors: [...params.sectors],
    sections: {
      approvals: field('approvals', approvals),
      inspections: field('inspections', await inspectionsSection(store, from, to, limits)),
      communications: field('communications', await communicationsSection(store, from, to, limits)),
      measures: field('measures', measures),
      reidentifications: field('reidentifications', await reidentificationsSection(store, from, to, limits)),
      retention: field('retention', await retentionSection(store, from, to, limits)),
      service: await serviceSection(store, params, from, to, limits),
    },
  };
}
