/**
 * Shapes of the centre's HTTP API as the dashboard reads them (docs/api.md). The domain types come
 * from src/common/schema; the API writes times as ISO 8601 strings, so the time fields differ.
 */
import type { Alert, Incident, IncidentState, SuppressionRule } from '../../src/common/schema/alert.ts';
import type { Evidence, Severity } from '../../src/common/schema/evidence.ts';
import type { DetectorName } from '../../src/common/schema/legal.ts';
import type {
  ApprovalCaseBody,
  CaseHistoryEntry,
  CaseState,
  DeletionCertificateBody,
} from '../../src/common/schema/case.ts';

export type { IncidentState, Severity, DetectorName, CaseState };

/** Evidence as the API writes it (window times stay epoch ms or ISO, both accepted for display). */
export type ApiEvidence = Omit<Evidence, 'window'> & {
  window: { start: number | string; end: number | string };
};

/** An alert with ISO times. */
export type ApiAlert = Omit<Alert, 'firstSeen' | 'lastSeen' | 'evidence'> & {
  firstSeen: string;
  lastSeen: string;
  evidence: ApiEvidence[];
};

/** One incident of the list. */
export interface IncidentSummary {
  id: string;
  state: IncidentState;
  severity: Severity;
  score: number;
  detectors: DetectorName[];
  subjects: string[];
  operators: string[];
  sectors: string[];
  firstSeen: string;
  lastSeen: string;
  summary: string;
  campaign: boolean;
}

/** An incident in full, with ISO times. */
export type ApiIncident = Omit<Incident, 'firstSeen' | 'lastSeen' | 'updatedAt' | 'history'> & {
  firstSeen: string;
  lastSeen: string;
  updatedAt?: string;
  history: { at: string | number; from: IncidentState; to: IncidentState; actor: string; reason: string }[];
};

/** `GET /api/incidents/:id`. */
export interface IncidentDetailResponse {
  incident: ApiIncident;
  alerts: ApiAlert[];
}

/** A page of a list resource. */
export interface PageResponse<T> {
  items: T[];
  next: string | null;
}

/** One exporter of a provider. */
export interface Exporter {
  id: string;
  address: string;
  observationDomainId: number;
  healthy: boolean;
  lastSeen: string | null;
  loss: number;
  templates: number;
}

/** One provider with its exporters. */
export interface Provider {
  id: string;
  name: string;
  recordsPerSecond: number;
  records: number;
  exporters: Exporter[];
}

/** Overview totals (also the body of SSE `stats`). */
export interface Totals {
  records: number;
  recordsPerSecond: number;
  selected: number;
  dropped: number;
  selectionRatio: number;
}

/** Counts per severity. */
export type SeverityCounts = Record<Severity, number>;

/** One detector's activity. */
export interface DetectorActivity {
  name: string;
  evidence: number;
  alerts: number;
  lastAlertAt: string | null;
}

/** `GET /api/overview`. */
export interface Overview {
  now: string;
  watermark: string | null;
  totals: Totals;
  providers: Provider[];
  alertsBySeverity: SeverityCounts;
  incidentsBySeverity: SeverityCounts;
  incidentsByState: Record<IncidentState, number>;
  detectors: DetectorActivity[];
}

/** SSE `stats`: when, the totals and each provider's rate. */
export interface StatsEvent {
  at?: string;
  totals: Totals;
  providers: { id: string; recordsPerSecond: number }[];
}

/** `GET /api/stats/series`. */
export interface SeriesResponse {
  step: '1m' | '1h';
  items: {
    t: string | number;
    providerId: string;
    records: number;
    packets: number;
    bytes: number;
    alerts: number;
  }[];
}

/** `GET /api/stats/top`. */
export interface TopResponse {
  dimension: string;
  items: { key: string; count: number; bytes: number }[];
}

/** `GET /api/indicators`. */
export interface Indicator {
  value: string;
  type: string;
  validUntil: string | null;
  source: string;
  confidence: number;
}

/** `GET /api/operators` item (only the fields the dashboard shows). */
export interface OperatorInfo {
  id: string;
  name: string;
  sector: string;
  providerId: string;
}

/** `GET /api/me`. */
export interface Me {
  user: string;
  role: string;
  purpose: string;
}

/** `POST /api/alerts/:id/false-positive`. */
export interface FalsePositiveResponse {
  rule: Omit<SuppressionRule, 'createdAt' | 'expiresAt'> & { createdAt: string | number };
}

/** RFC 9457 problem details. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  instance?: string;
}

/** A case history step with an ISO time. */
export type ApiCaseHistoryEntry = Omit<CaseHistoryEntry, 'at'> & { at: string };

/** An approval case body as the API writes it (times as ISO 8601). */
export type ApiApprovalCaseBody = Omit<
  ApprovalCaseBody,
  'validFrom' | 'validUntil' | 'emergency' | 'history' | 'decision'
> & {
  validFrom: string;
  validUntil: string;
  emergency?: { actedAt: string; notifyBy: string; notifiedAt?: string };
  history: ApiCaseHistoryEntry[];
  decision?: { at: string; by: string; reason: string };
};

/** One approval case of `GET /api/cases` (also `GET /api/cases/:id` and the approve/reject answers). */
export interface ApiCase {
  id: string;
  recordKind: 'approval-case';
  state: CaseState;
  createdAt: string;
  updatedAt: string;
  /** An emergency notification or a response is past its deadline. */
  overdue: boolean;
  case: ApiApprovalCaseBody;
}

/** `GET /api/cases/overdue`. */
export interface OverdueResponse {
  items: { id: string; what: 'emergency-notification' | 'communication-response'; dueAt: string }[];
}

/** One stored audit entry (`GET /api/audit`), with an ISO time. */
export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  role: string;
  purpose: string;
  action: string;
  objectIds: string[];
  detail: Record<string, unknown>;
  prev: string;
  hash: string;
}

/** `POST /api/audit/verify`. */
export interface AuditVerdict {
  ok: boolean;
  checked: number;
  lastCheckpointSeq: number | null;
  checkpoints?: number;
  uncovered?: number;
  problem?: { kind: string; seq?: number; message: string };
}

/** One retention partition of `GET /api/retention`. */
export interface RetentionPartition {
  kind: string;
  day: string;
  rows: number;
  expiresAt: string;
  held: boolean;
}

/** One retention hold (an approved retention extension). */
export interface RetentionHold {
  caseId: string;
  validUntil: string;
  incidentIds: string[];
  days: string[];
}

/** `GET /api/retention`. */
export interface RetentionStatus {
  now: string;
  parameterVersion: string;
  /** Retention per channel as duration text (`P7D`, `90 days` …). */
  retention: Record<string, string>;
  partitions: RetentionPartition[];
  holds: RetentionHold[];
  lastRun: { at: string; certificateId: string | null } | null;
  nextRunAt: string | null;
}

/** One deletion certificate of `GET /api/retention/certificates`. */
export type DeletionCertificate = Omit<DeletionCertificateBody, 'runAt'> & { runAt: string };
