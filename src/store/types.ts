/**
 * The centre's store (DESIGN section 3, `store/`): one interface, implemented by the embedded
 * DuckDB store (default, files under ./data) and later by PostgreSQL, both held to the contract
 * suite in `contract.ts`. Every read is bounded (a limit and, for time series, a time range);
 * every write is a batched append or an upsert by id. Retention drops whole days.
 */
import type { Alert, Incident, IncidentState, SuppressionRule } from '../common/schema/alert.ts';
import type { Evidence, Severity } from '../common/schema/evidence.ts';
import type { DetectorName, LegalChannel } from '../common/schema/legal.ts';
import type { SelectedRecord } from '../common/schema/selected.ts';
import type { OperatorsFile } from '../common/operators/index.ts';

/** A page of results, newest first, and the opaque cursor of the next page (null at the end). */
export interface Page<T> {
  items: T[];
  next: string | null;
}

/** Bounds every list read takes. `limit` is clamped to `MAX_LIMIT`. */
export interface PageQuery {
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

/** The largest page any read returns. */
export const MAX_LIMIT = 1000;

/**
 * Selected-record query: a time range (event time, epoch ms, `[from, to)`) is mandatory. A
 * record's event time is its flow end (else start) for flows, `eventTime` (else the response or
 * query time) for DNS events, and `provenance.selectedAt` when the record carries no time.
 * Pages are newest first by event time, then `recordId` descending.
 */
export interface RecordQuery extends PageQuery {
  from: number;
  to: number;
  recordType?: 'flow' | 'dns';
  providerId?: string;
  channel?: LegalChannel;
  /** Matches either endpoint (address or pseudonym, exact). */
  address?: string;
  /** Matches either transport port. */
  port?: number;
  protocolIdentifier?: number;
  /** DNS query name suffix match. */
  qname?: string;
}

/** Alert listing filters; pages are newest first by `lastSeen`, then id. */
export interface AlertQuery extends PageQuery {
  detector?: DetectorName;
  subject?: string;
  severityAtLeast?: Severity;
  incidentId?: string;
  /** Event-time overlap with [since, until). */
  since?: number;
  until?: number;
}

/** Incident listing filters; pages are newest first by `lastSeen`, then id. */
export interface IncidentQuery extends PageQuery {
  state?: IncidentState;
  severityAtLeast?: Severity;
  detector?: DetectorName;
  operatorId?: string;
  /** Matches subjects and counterparts (exact). */
  address?: string;
  since?: number;
  until?: number;
}

/**
 * Evidence query: the window-start range `[from, to)` (epoch ms) is mandatory. Pages are newest
 * first by window start, then by the order the store received the evidence.
 */
export interface EvidenceQuery extends PageQuery {
  from: number;
  to: number;
  detector?: DetectorName;
  /** Matches the subject or the counterpart (exact). */
  address?: string;
}

/**
 * An incident with what made it: its alerts (those of `incident.alerts` that are stored, oldest
 * first, at most `MAX_LIMIT`) and, inside each alert, its evidence.
 */
export interface IncidentDetail {
  incident: Incident;
  alerts: Alert[];
}

/** Rollup resolution. */
export type RollupStep = '1m' | '1h';

/**
 * Alerts belong to no single provider: their counts are reported on rollup points of this
 * pseudo-provider id (by the bucket of the alert's `firstSeen`, each alert once).
 */
export const ALERTS_PROVIDER = '*';

/**
 * One rollup bucket per provider (flows and DNS events), by event time. Points with
 * `providerId === ALERTS_PROVIDER` carry only `alerts`; the others only record counts.
 */
export interface RollupPoint {
  /** Bucket start, epoch ms. */
  t: number;
  providerId: string;
  records: number;
  /** Sampling-scaled estimates. */
  packets: number;
  bytes: number;
  alerts: number;
}

/**
 * A time series: buckets whose start is in `[from, to)`, oldest first, at most `MAX_SERIES_POINTS`
 * points. `providerId` restricts to one provider (use `ALERTS_PROVIDER` for alert counts only).
 */
export interface SeriesQuery {
  step: RollupStep;
  from: number;
  to: number;
  providerId?: string;
}

/** The largest number of points a series returns (a day of minutes × a few providers). */
export const MAX_SERIES_POINTS = 20_000;

/** Dimensions the store can rank. */
export type TopDimension =
  'sourceCountry' | 'destinationCountry' | 'sourceAsn' | 'destinationAsn' | 'destinationPort' | 'detector';

/**
 * Top-N over records with event time in `[from, to)` (alerts by `lastSeen` for `detector`),
 * ordered by count descending, then key ascending; `limit` clamped to `MAX_LIMIT`.
 */
export interface TopQuery {
  dimension: TopDimension;
  from: number;
  to: number;
  limit: number;
}

/** One ranked key (ASNs and ports as decimal strings). */
export interface TopEntry {
  key: string;
  /** Records (or alerts, for `detector`). */
  count: number;
  /** Sampling-scaled bytes of those records (0 for `detector`). */
  bytes: number;
}

/**
 * A record of the oversight workflows (issue 8: approval cases, operator reports,
 * countermeasures): kept as a typed document with a kind and state; the workflow code owns the
 * shape of `body`.
 */
export interface CaseRecord {
  id: string;
  kind: string;
  state: string;
  createdAt: number;
  updatedAt: number;
  body: Record<string, unknown>;
}

/**
 * Audit search filters (issue 8, the audit API): entries with `seq < beforeSeq` (every entry when
 * absent), `at` in `[from, to)` (epoch ms; open ends when absent), `actor` equal to the given one
 * and `action` starting with `actionPrefix`. At most `limit` entries (clamped to `MAX_LIMIT`).
 */
export interface AuditQuery {
  beforeSeq?: number;
  from?: number;
  to?: number;
  actor?: string;
  actionPrefix?: string;
  limit: number;
}

/** One audit-log entry as stored (issue 8 owns the chain and the signing). */
export interface AuditRecord {
  /** Position in the chain, from 1, gap-free. */
  seq: number;
  at: number;
  actor: string;
  role: string;
  purpose: string;
  action: string;
  objectIds: string[];
  detail: Record<string, unknown>;
  /** Hash of the previous entry (hex), `''` for the first. */
  prev: string;
  /** Hash of this entry (hex). */
  hash: string;
}

/** A day of stored data: the unit retention drops. */
export interface Partition {
  /** What the partition holds. */
  kind: 'records' | 'evidence';
  /** Retention day, YYYY-MM-DD (UTC): every row in it must be deleted after the end of that day. */
  day: string;
  rows: number;
}

/** Tables a retention run deletes from, in the order `RetentionResult.counts` lists them. */
export const RETENTION_TABLES = [
  'records',
  'evidence',
  'alerts',
  'incidents',
  'rollup_1m',
  'rollup_1h',
] as const;
/** One table of {@link RETENTION_TABLES}. */
export type RetentionTable = (typeof RETENTION_TABLES)[number];

/**
 * What one retention run keeps and how far derived data goes. The retention job
 * (src/oversee/retention) computes these from the legal parameters and the approved
 * retention-extension cases; the store only applies them.
 */
export interface RetentionOptions {
  /**
   * Derived data older than this (epoch ms) is deleted: alerts and incidents whose `lastSeen` is
   * before it, and 1-minute/1-hour rollup buckets that end at or before it. Absent: derived
   * tables are left alone and only expired partitions go.
   */
  derivedBefore?: number;
  /** Retention days (YYYY-MM-DD) whose record and evidence partitions are kept although expired. */
  heldDays?: readonly string[];
  /**
   * Incidents kept although past `derivedBefore`, with their alerts (those whose `incidentId` is
   * held and those the incident lists in `alerts`).
   */
  heldIncidents?: readonly string[];
}

/** What a retention run deleted (for the deletion certificate, the audit log and reports). */
export interface RetentionResult {
  dropped: Partition[];
  /** Expired partitions kept because a hold names their day. */
  held: Partition[];
  /** Rows deleted per table. */
  counts: Record<RetentionTable, number>;
  /**
   * Rows still present in what was deleted, re-counted after the commit: rows of the dropped
   * partitions (and their tables, catalogue entries) plus derived rows still matching the deletion
   * rule. 0 proves the deletion.
   */
  remainingRows: number;
}

/** Counts for status lines and `/readyz`. */
export interface StoreStats {
  records: number;
  evidence: number;
  alerts: number;
  incidents: number;
  partitions: number;
  /** Audit entries (the last `seq`). */
  audit: number;
  /** Bytes on disk (0 for in-memory stores). */
  bytesOnDisk: number;
}

/**
 * The store. All methods are async; implementations batch appends internally and must be safe
 * to call concurrently from one process (DuckDB: one writer, the centre process).
 */
export interface Store {
  readonly kind: 'duckdb' | 'memory' | 'postgres';
  open(): Promise<void>;
  close(): Promise<void>;

  /** Appends selected records; partitioned by the day of `provenance.retainUntil`. */
  appendRecords(records: readonly SelectedRecord[]): Promise<void>;
  queryRecords(q: RecordQuery): Promise<Page<SelectedRecord>>;
  /**
   * The stored records with these ids, in the order asked, each once; ids not stored are left
   * out. At most `MAX_LIMIT` distinct ids (else `StoreError` `ERR_STORE_BAD_QUERY`): a look-up of
   * named records (re-identification), not a listing.
   */
  getRecords(ids: readonly string[]): Promise<SelectedRecord[]>;

  /** Appends evidence (partitioned by the UTC day of `retainUntil`, which the caller computes). */
  appendEvidence(evidence: readonly Evidence[], retainUntil: number): Promise<void>;
  queryEvidence(q: EvidenceQuery): Promise<Page<Evidence>>;

  /** Inserts or replaces alerts by id. */
  upsertAlerts(alerts: readonly Alert[]): Promise<void>;
  getAlert(id: string): Promise<Alert | undefined>;
  listAlerts(q: AlertQuery): Promise<Page<Alert>>;

  /** Inserts or replaces incidents by id. */
  upsertIncidents(incidents: readonly Incident[]): Promise<void>;
  /** Deletes incidents absorbed into others by correlation (their alerts moved); idempotent. */
  deleteIncidents(ids: readonly string[]): Promise<void>;
  getIncident(id: string): Promise<IncidentDetail | undefined>;
  /** Newest first (by `lastSeen`, then id). */
  listIncidents(q: IncidentQuery): Promise<Page<Incident>>;

  putSuppression(rule: SuppressionRule): Promise<void>;
  deleteSuppression(id: string): Promise<boolean>;
  listSuppressions(): Promise<SuppressionRule[]>;

  /** Replaces the operators registry. */
  putOperators(file: OperatorsFile): Promise<void>;
  getOperators(): Promise<OperatorsFile | undefined>;

  /** Inserts or replaces a case by id. */
  putCase(c: CaseRecord): Promise<void>;
  getCase(id: string): Promise<CaseRecord | undefined>;
  /** Newest first (by `updatedAt`, then id). */
  listCases(q: PageQuery & { kind?: string; state?: string }): Promise<Page<CaseRecord>>;

  /** Appends audit entries; `seq` must continue the chain (else `StoreError` `ERR_STORE_AUDIT_SEQ`). */
  appendAudit(entries: readonly AuditRecord[]): Promise<void>;
  /** Entries with `seq` in [fromSeq, fromSeq + limit), in order; `limit` clamped to `MAX_LIMIT`. */
  readAudit(fromSeq: number, limit: number): Promise<AuditRecord[]>;
  /** Audit search (the audit API): entries matching `q`, newest first (seq descending). */
  searchAudit(q: AuditQuery): Promise<AuditRecord[]>;
  lastAudit(): Promise<AuditRecord | undefined>;

  /** 1-minute and 1-hour rollups, maintained on append. */
  series(q: SeriesQuery): Promise<RollupPoint[]>;
  top(q: TopQuery): Promise<TopEntry[]>;

  partitions(): Promise<Partition[]>;
  /**
   * One retention run (idempotent: a second run with the same arguments deletes nothing): drops
   * every partition whose retention day ended at or before `now` except the held days, and, with
   * `derivedBefore`, deletes the derived rows older than it except the held incidents and their
   * alerts (see {@link RetentionOptions}). Bad arguments: `StoreError` `ERR_STORE_BAD_QUERY`.
   */
  enforceRetention(now: number, options?: RetentionOptions): Promise<RetentionResult>;
  stats(): Promise<StoreStats>;
}
