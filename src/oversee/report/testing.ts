/**
 * A generated store for the transparency-report tests: approval cases, communications, deletion
 * certificates and re-identification requests in the shapes of `src/common/schema/case.ts`,
 * incidents, alerts, selected records and audit entries, each built from explicit event times
 * (submitted at, decided at, …). `expectedCounts` counts those event times directly — it never
 * reads the stored histories or the report code — so comparing it with the report checks that the
 * report's totals reconcile with the stored cases. Deterministic for a seed. Not used by production code.
 */
import type { Alert, Incident, IncidentTransition } from '../../common/schema/alert.ts';
import type { ApprovalKind } from '../../common/schema/approval.ts';
import type { CaseHistoryEntry, CaseState } from '../../common/schema/case.ts';
import type { DetectorName } from '../../common/schema/legal.ts';
import type { SelectedRecord } from '../../common/schema/selected.ts';
import { alertOf, flowRecord, incidentOf } from '../../store/testing.ts';
import type { AuditRecord, CaseRecord, Store } from '../../store/types.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The generator's own view of one approval case: the times of its events. */
interface CasePlan {
  id: string;
  kind: ApprovalKind;
  createdAt: number;
  submittedAt?: number;
  decision?: { at: number; to: 'approved' | 'rejected' };
  end?: { at: number; to: 'revoked' | 'expired' };
  validFrom: number;
  validUntil: number;
  emergency?: { actedAt: number; notifyBy: number; notifiedAt?: number };
}

interface CommunicationPlan {
  id: string;
  type: 'notification' | 'request' | 'recommendation';
  direction: 'from-commission' | 'to-commission';
  createdAt: number;
  dueAt?: number;
  answeredAt?: number;
}

interface CertificatePlan {
  id: string;
  runAt: number;
  counts: Record<string, number>;
}

interface ReidPlan {
  id: string;
  createdAt: number;
  updatedAt: number;
  state: 'awaiting-second' | 'sent' | 'answered' | 'refused' | 'expired';
}

interface IncidentPlan {
  id: string;
  firstSeen: number;
  sectors: string[];
  notifiedAt?: number;
  mitigatedAt?: number;
}

/** The generated contents and the plans they were made from. */
export interface ReportFixture {
  cases: CasePlan[];
  communications: CommunicationPlan[];
  certificates: CertificatePlan[];
  reids: ReidPlan[];
  incidents: IncidentPlan[];
  alerts: Alert[];
  records: SelectedRecord[];
  audit: AuditRecord[];
  /** Records put in the `cases` table that are not readable bodies. */
  malformedCases: CaseRecord[];
}

const KINDS: ApprovalKind[] = ['acquisition', 'police-measure', 'sdf-measure', 'retention-extension'];
const DETECTORS: DetectorName[] = ['scan', 'beacon', 'ddos', 'brute-force'];
const SECTORS = ['finance', 'medical', 'water', 'railways'];

/** Sizes of a fixture. */
export interface FixtureSizes {
  cases: number;
  communications: number;
  reids: number;
  incidents: number;
  alerts: number;
  records: number;
  audit: number;
}

/**
 * Generates contents with event times spread over `[start, start + spanDays)`, so a period in the
 * middle has events before, inside and after it.
 */
export function reportFixture(seed: number, start: number, spanDays: number, n: FixtureSizes): ReportFixture {
  const r = rng(seed);
  const at = (): number => start + Math.floor(r() * spanDays * DAY);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

  const cases: CasePlan[] = [];
  for (let i = 0; i < n.cases; i++) {
    const kind = pick(KINDS);
    const createdAt = at();
    const c: CasePlan = {
      id: `case-${i}`,
      kind,
      createdAt,
      validFrom: createdAt,
      validUntil: createdAt + 30 * DAY,
    };
    if (r() < 0.9) c.submittedAt = createdAt + Math.floor(r() * 5 * DAY);
    if (c.submittedAt !== undefined && r() < 0.85) {
      c.decision = {
        at: c.submittedAt + Math.floor(r() * 10 * DAY) + 1,
        to: r() < 0.7 ? 'approved' : 'rejected',
      };
      c.validFrom = c.decision.at;
      c.validUntil = c.validFrom + 30 * DAY;
      if (c.decision.to === 'approved') {
        const x = r();
        if (x < 0.3) c.end = { at: c.decision.at + Math.floor(r() * 20 * DAY) + 1, to: 'revoked' };
        else if (x < 0.6) c.end = { at: c.validUntil, to: 'expired' };
      }
    }
    if ((kind === 'police-measure' || kind === 'sdf-measure') && r() < 0.4) {
      c.emergency = { actedAt: createdAt, notifyBy: createdAt + 24 * HOUR };
      if (c.submittedAt !== undefined) c.emergency.notifiedAt = c.submittedAt;
    }
    cases.push(c);
  }

  const communications: CommunicationPlan[] = [];
  for (let i = 0; i < n.communications; i++) {
    const createdAt = at();
    const c: CommunicationPlan = {
      id: `comm-${i}`,
      type: pick(['notification', 'request', 'recommendation'] as const),
      direction: pick(['from-commission', 'to-commission'] as const),
      createdAt,
    };
    if (r() < 0.5) c.dueAt = createdAt + 14 * DAY;
    if (r() < 0.6) c.answeredAt = createdAt + Math.floor(r() * 30 * DAY);
    communications.push(c);
  }

  const certificates: CertificatePlan[] = [];
  for (let d = 0; d < spanDays; d += 1 + Math.floor(r() * 3)) {
    certificates.push({
      id: `cert-${d}`,
      runAt: start + d * DAY + 3 * HOUR,
      counts: {
        records: Math.floor(r() * 5000),
        evidence: Math.floor(r() * 50),
        rollup_1m: Math.floor(r() * 1440),
      },
    });
  }

  const reids: ReidPlan[] = [];
  for (let i = 0; i < n.reids; i++) {
    const createdAt = at();
    reids.push({
      id: `reid-${i}`,
      createdAt,
      updatedAt: createdAt + Math.floor(r() * 3 * DAY),
      state: pick(['awaiting-second', 'sent', 'answered', 'refused', 'expired'] as const),
    });
  }

  const incidents: IncidentPlan[] = [];
  for (let i = 0; i < n.incidents; i++) {
    const firstSeen = at();
    const p: IncidentPlan = { id: `inc-${i}`, firstSeen, sectors: SECTORS.filter(() => r() < 0.3) };
    if (r() < 0.6) {
      p.notifiedAt = firstSeen + Math.floor(r() * 2 * DAY) + HOUR;
      if (r() < 0.7) p.mitigatedAt = p.notifiedAt + Math.floor(r() * 3 * DAY) + 1;
    }
    incidents.push(p);
  }

  const alerts: Alert[] = [];
  for (let i = 0; i < n.alerts; i++)
    alerts.push(
      alertOf(`al-${i}`, { firstSeen: at(), detector: pick(DETECTORS), subject: `203.0.113.${i % 250}` }),
    );

  const records: SelectedRecord[] = [];
  for (let i = 0; i < n.records; i++)
    records.push(flowRecord({ t: at(), index: i, providerId: pick(['prov-a', 'prov-b']) }));

  // Audit entries in time order (the chain is appended in time order).
  const times = Array.from({ length: n.audit }, at).sort((a, b) => a - b);
  const audit: AuditRecord[] = times.map((t, i) => {
    const x = r();
    const who =
      x < 0.4
        ? { actor: pick(['insp-1', 'insp-2', 'insp-3']), role: 'inspector', purpose: 'oversight' }
        : x < 0.45
          ? { actor: 'insp-1', role: 'inspector', purpose: 'monitoring' }
          : x < 0.55
            ? { actor: 'local-admin', role: 'administrator', purpose: 'administration' }
            : { actor: 'ana', role: 'analyst', purpose: 'monitoring' };
    const action =
      who.role === 'administrator'
        ? pick(['audit.export', 'audit.verify', 'retention.run'])
        : who.role === 'inspector'
          ? pick(['GET /api/cases', 'GET /api/audit/export', 'POST /api/audit/verify', 'read.aggregate'])
          : 'GET /api/records';
    return {
      seq: i + 1,
      at: t,
      ...who,
      action,
      objectIds: [],
      detail: {},
      prev: i === 0 ? '' : `h${i}`,
      hash: `h${i + 1}`,
    };
  });

  const malformedCases: CaseRecord[] = [
    { id: 'bad-1', kind: 'approval-case', state: 'submitted', createdAt: start, updatedAt: start, body: {} },
    {
      id: 'bad-2',
      kind: 'approval-case',
      state: 'approved',
      createdAt: start,
      updatedAt: start,
      body: { kind: 'acquisition', validFrom: 'soon', validUntil: 0, history: 'none' },
    },
    {
      id: 'bad-3',
      kind: 'communication',
      state: 'open',
      createdAt: start,
      updatedAt: start,
      body: { type: 7 },
    },
  ];
  return { cases, communications, certificates, reids, incidents, alerts, records, audit, malformedCases };
}

function history(c: CasePlan): CaseHistoryEntry[] {
  const h: CaseHistoryEntry[] = [
    { at: c.createdAt, from: null, to: 'draft', actor: 'ana', role: 'analyst', reason: 'drafted' },
  ];
  const step = (at: number, from: CaseState, to: CaseState): void => {
    h.push({ at, from, to, actor: to === 'expired' ? 'system' : 'someone', role: 'x', reason: to });
  };
  if (c.submittedAt !== undefined) step(c.submittedAt, 'draft', 'submitted');
  if (c.decision) step(c.decision.at, 'submitted', c.decision.to);
  if (c.end) step(c.end.at, 'approved', c.end.to);
  return h;
}

/** The stored records (`cases` table) of a fixture. */
export function caseRecords(fx: ReportFixture): CaseRecord[] {
  const out: CaseRecord[] = [];
  for (const c of fx.cases) {
    const h = history(c);
    const last = h[h.length - 1]!;
    out.push({
      id: c.id,
      kind: 'approval-case',
      state: last.to,
      createdAt: c.createdAt,
      updatedAt: last.at,
      body: {
        format: 'acd.approval-case/1',
        kind: c.kind,
        title: `case ${c.id}`,
        justification: 'test',
        requester: 'ana',
        requesterRole: 'analyst',
        providers: ['*'],
        targetActs: [],
        targets: [],
        selectors: [],
        validFrom: c.validFrom,
        validUntil: c.validUntil,
        parameterVersion: 'jp-2025-05.1',
        ...(c.emergency ? { emergency: c.emergency } : {}),
        history: h,
      },
    });
  }
  for (const c of fx.communications)
    out.push({
      id: c.id,
      kind: 'communication',
      state: c.answeredAt === undefined ? 'open' : 'answered',
      createdAt: c.createdAt,
      updatedAt: c.answeredAt ?? c.createdAt,
      body: {
        format: 'acd.communication/1',
        type: c.type,
        direction: c.direction,
        subject: `subject ${c.id}`,
        text: 'text',
        createdBy: 'insp-1',
        createdAt: c.createdAt,
        ...(c.dueAt !== undefined ? { dueAt: c.dueAt } : {}),
        responses: c.answeredAt === undefined ? [] : [{ at: c.answeredAt, by: 'sup', text: 'done' }],
      },
    });
  for (const c of fx.certificates)
    out.push({
      id: c.id,
      kind: 'deletion-certificate',
      state: 'issued',
      createdAt: c.runAt,
      updatedAt: c.runAt,
      body: {
        format: 'acd.deletion-certificate/1',
        id: c.id,
        runAt: c.runAt,
        period: { firstDay: null, lastDay: null },
        counts: c.counts,
        remainingRows: 0,
        parameterVersion: 'jp-2025-05.1',
        holds: [],
        keyIds: ['k1'],
        keyId: 'k1',
        signature: 'x',
      },
    });
  for (const c of fx.reids)
    out.push({
      id: c.id,
      kind: 'reidentification',
      state: c.state,
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
      body: {},
    });
  return [...out, ...fx.malformedCases];
}

function incidentRecord(p: IncidentPlan): Incident {
  const i = incidentOf(p.id, { firstSeen: p.firstSeen, lastSeen: p.firstSeen + HOUR });
  i.sectors = p.sectors;
  const h: IncidentTransition[] = [];
  if (p.notifiedAt !== undefined) {
    h.push({ at: p.notifiedAt - 1, from: 'new', to: 'triaged', actor: 'ana', reason: 'x' });
    h.push({ at: p.notifiedAt, from: 'triaged', to: 'notified', actor: 'ana', reason: 'x' });
    i.state = 'notified';
  }
  if (p.mitigatedAt !== undefined) {
    h.push({ at: p.mitigatedAt, from: 'notified', to: 'mitigated', actor: 'ana', reason: 'x' });
    i.state = 'mitigated';
  }
  i.history = h;
  return i;
}

/** Puts a fixture into an open store. */
export async function loadFixture(store: Store, fx: ReportFixture): Promise<void> {
  for (const c of caseRecords(fx)) await store.putCase(c);
  await store.upsertIncidents(fx.incidents.map(incidentRecord));
  await store.upsertAlerts(fx.alerts);
  await store.appendRecords(fx.records);
  if (fx.audit.length > 0) await store.appendAudit(fx.audit);
}

function within(t: number | undefined, from: number, to: number): boolean {
  return t !== undefined && t >= from && t < to;
}

/** The counts a correct report of `[from, to)` must show, from the plans alone. */
export function expectedCounts(fx: ReportFixture, from: number, to: number) {
  const byKind: Record<string, Record<string, number>> = {};
  for (const k of KINDS)
    byKind[k] = { requested: 0, approved: 0, rejected: 0, revoked: 0, expired: 0, pendingAtEnd: 0 };
  const emergency = { acted: 0, notifiedInTime: 0, overdueNotifications: 0 };
  const measures = { policeMeasures: 0, sdfMeasures: 0, total: 0 };
  for (const c of fx.cases) {
    const f = byKind[c.kind]!;
    if (within(c.submittedAt, from, to)) f.requested!++;
    if (c.decision && within(c.decision.at, from, to)) f[c.decision.to]!++;
    if (c.end && within(c.end.at, from, to)) f[c.end.to]!++;
    if (
      c.submittedAt !== undefined &&
      c.submittedAt < to &&
      (c.decision === undefined || c.decision.at >= to)
    )
      f.pendingAtEnd!++;
    const e = c.emergency;
    if (e) {
      if (within(e.actedAt, from, to)) {
        emergency.acted++;
        if (e.notifiedAt !== undefined && e.notifiedAt <= e.notifyBy) emergency.notifiedInTime++;
      }
      if (within(e.notifyBy, from, to) && !(e.notifiedAt !== undefined && e.notifiedAt <= e.notifyBy))
        emergency.overdueNotifications++;
    }
    if ((c.kind === 'police-measure' || c.kind === 'sdf-measure') && c.decision?.to === 'approved') {
      const startAt = c.decision.at;
      const endAt = Math.min(c.validUntil, c.end?.at ?? Infinity);
      if (startAt < endAt && startAt < to && endAt > from) {
        if (c.kind === 'police-measure') measures.policeMeasures++;
        else measures.sdfMeasures++;
        measures.total++;
      }
    }
  }
  const comms = { total: 0, answered: 0, overdue: 0 };
  const byType: Record<string, { fromCommission: number; toCommission: number }> = {
    notification: { fromCommission: 0, toCommission: 0 },
    request: { fromCommission: 0, toCommission: 0 },
    recommendation: { fromCommission: 0, toCommission: 0 },
  };
  for (const c of fx.communications) {
    if (within(c.createdAt, from, to)) {
      comms.total++;
      byType[c.type]![c.direction === 'from-commission' ? 'fromCommission' : 'toCommission']++;
      if (c.answeredAt !== undefined && c.answeredAt < to) comms.answered++;
    }
    if (within(c.dueAt, from, to) && (c.answeredAt === undefined || c.answeredAt > c.dueAt!)) comms.overdue++;
  }
  const certs = fx.certificates.filter((c) => within(c.runAt, from, to));
  const rowsDeleted = certs.reduce((s, c) => s + Object.values(c.counts).reduce((a, b) => a + b, 0), 0);
  const reids = {
    requested: fx.reids.filter((x) => within(x.createdAt, from, to)).length,
    answered: fx.reids.filter((x) => x.state === 'answered' && within(x.updatedAt, from, to)).length,
    refused: fx.reids.filter((x) => x.state === 'refused' && within(x.updatedAt, from, to)).length,
  };
  const inPeriodAudit = fx.audit.filter((e) => within(e.at, from, to));
  const insp = inPeriodAudit.filter((e) => e.role === 'inspector' && e.purpose === 'oversight');
  const inspections = {
    inspectorDays: new Set(insp.map((e) => `${e.actor}/${new Date(e.at).toISOString().slice(0, 10)}`)).size,
    inspectors: new Set(insp.map((e) => e.actor)).size,
    inspectorEntries: insp.length,
    auditExports: inPeriodAudit.filter(
      (e) => e.action === 'audit.export' || e.action === 'GET /api/audit/export',
    ).length,
    auditVerifications: inPeriodAudit.filter(
      (e) => e.action === 'audit.verify' || e.action === 'POST /api/audit/verify',
    ).length,
  };
  const durations = fx.incidents
    .filter((p) => within(p.mitigatedAt, from, to))
    .map((p) => p.mitigatedAt! - p.firstSeen)
    .sort((a, b) => a - b);
  const mid = durations.length >> 1;
  const median =
    durations.length === 0
      ? undefined
      : durations.length % 2
        ? durations[mid]!
        : (durations[mid - 1]! + durations[mid]!) / 2;
  const bySector: Record<string, number> = {};
  for (const p of fx.incidents)
    if (within(p.firstSeen, from, to)) for (const s of p.sectors) bySector[s] = (bySector[s] ?? 0) + 1;
  const alertsByDetector: Record<string, number> = {};
  for (const a of fx.alerts)
    if (within(a.firstSeen, from, to)) alertsByDetector[a.detector] = (alertsByDetector[a.detector] ?? 0) + 1;
  return {
    byKind,
    emergency,
    measures,
    communications: { ...comms, byType },
    retention: { certificates: certs.length, rowsDeleted },
    reidentifications: reids,
    inspections,
    service: {
      // Rollups are hourly by event time (the flow end): with hour-aligned periods, exact.
      recordsSelected: fx.records.filter((x) => within(x.fields.flowEndMilliseconds as number, from, to))
        .length,
      alerts: fx.alerts.filter((a) => within(a.firstSeen, from, to)).length,
      alertsByDetector,
      incidents: fx.incidents.filter((p) => within(p.firstSeen, from, to)).length,
      incidentsBySector: bySector,
      operatorNotifications: fx.incidents.filter((p) => within(p.notifiedAt, from, to)).length,
      mitigated: durations.length,
      medianTimeToMitigateMs: median,
    },
  };
}
