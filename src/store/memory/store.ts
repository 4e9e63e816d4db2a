/**
 * `MemoryStore`: the whole store in process memory, bounded by the configured caps (the oldest
 * appended records and evidence are evicted, and counted, beyond them). For tests, `acd analyze`
 * and anything that must not touch disk; held to the same contract as the DuckDB store.
 */
import type { Alert, Incident, SuppressionRule } from '../../common/schema/alert.ts';
import type { Evidence } from '../../common/schema/evidence.ts';
import type { SelectedRecord } from '../../common/schema/selected.ts';
import type { OperatorsFile } from '../../common/operators/index.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import { StoreError } from '../errors.ts';
import { storeMetrics, type StoreMetrics } from '../metrics.ts';
import {
  afterCursor,
  checkRange,
  checkRetention,
  clampLimit,
  dayExpired,
  decodeCursor,
  encodeCursor,
  newestFirst,
  qnameMatches,
  recordKeys,
  retentionDay,
  severityRank,
  STEP_MS,
  type CursorPos,
  type RecordKeys,
  uniqueIds,
  zeroRetentionCounts,
} from '../shape.ts';
import {
  ALERTS_PROVIDER,
  MAX_LIMIT,
  MAX_SERIES_POINTS,
  type AlertQuery,
  type AuditQuery,
  type AuditRecord,
  type CaseRecord,
  type EvidenceQuery,
  type IncidentDetail,
  type IncidentQuery,
  type Page,
  type PageQuery,
  type Partition,
  type RecordQuery,
  type RetentionOptions,
  type RetentionResult,
  type RollupPoint,
  type RollupStep,
  type SeriesQuery,
  type Store,
  type StoreStats,
  type TopEntry,
  type TopQuery,
} from '../types.ts';

/** Options of the memory store. */
export interface MemoryStoreOptions {
  /** Records kept; the oldest appended are evicted beyond it (default 1 000 000). */
  maxRecords?: number;
  /** Evidence items kept (default 200 000). */
  maxEvidence?: number;
  /** Registry for the `store_*` counters (a private one when absent). */
  metrics?: MetricsRegistry;
}

interface RecordEntry {
  r: SelectedRecord;
  k: RecordKeys;
  day: string;
}

interface EvidenceEntry {
  e: Evidence;
  day: string;
  /** Zero-padded arrival number: the tie-breaker of the evidence order. */
  id: string;
}

interface Bucket {
  records: number;
  packets: number;
  bytes: number;
}

/** Evidence arrival numbers are padded so that string order is numeric order. */
export function evidenceSeqId(n: number): string {
  return n.toString().padStart(16, '0');
}

function page<T, E>(
  kind: string,
  all: E[],
  pos: (e: E) => CursorPos,
  out: (e: E) => T,
  q: PageQuery,
): Page<T> {
  const limit = clampLimit(q.limit);
  const c = decodeCursor(kind, q.cursor);
  const sorted = all.filter((e) => {
    const p = pos(e);
    return afterCursor(p.t, p.id, c);
  });
  sorted.sort((a, b) => newestFirst(pos(a), pos(b)));
  const items = sorted.slice(0, limit);
  const last = items[items.length - 1];
  const next = sorted.length > limit && last !== undefined ? encodeCursor(kind, pos(last)) : null;
  return { items: items.map(out), next };
}

function bump(map: Map<string, number>, day: string, n: number): void {
  const v = (map.get(day) ?? 0) + n;
  if (v <= 0) map.delete(day);
  else map.set(day, v);
}

/** The in-memory store. */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  private readonly maxRecords: number;
  private readonly maxEvidence: number;
  private readonly m: StoreMetrics;
  private opened = false;

  private records: RecordEntry[] = [];
  private recordDays = new Map<string, number>();
  private evidence: EvidenceEntry[] = [];
  private evidenceDays = new Map<string, number>();
  private evidenceSeq = 0;
  private rollups: Record<RollupStep, Map<string, Bucket>> = { '1m': new Map(), '1h': new Map() };
  private alerts = new Map<string, Alert>();
  private incidents = new Map<string, Incident>();
  private suppressions = new Map<string, SuppressionRule>();
  private operators: OperatorsFile | undefined;
  private cases = new Map<string, CaseRecord>();
  private audit: AuditRecord[] = [];

  constructor(opts: MemoryStoreOptions = {}) {
    this.maxRecords = opts.maxRecords ?? 1_000_000;
    this.maxEvidence = opts.maxEvidence ?? 200_000;
    this.m = storeMetrics(opts.metrics ?? new MetricsRegistry(), 'memory');
  }

  open(): Promise<void> {
    this.opened = true;
    return Promise.resolve();
  }

  /** Closes the store; a memory store forgets everything. */
  close(): Promise<void> {
    this.opened = false;
    this.records = [];
    this.recordDays.clear();
    this.evidence = [];
    this.evidenceDays.clear();
    this.rollups = { '1m': new Map(), '1h': new Map() };
    this.alerts.clear();
    this.incidents.clear();
    this.suppressions.clear();
    this.operators = undefined;
    this.cases.clear();
    this.audit = [];
    return Promise.resolve();
  }

  private check(): void {
    if (!this.opened) throw new StoreError('ERR_STORE_CLOSED', 'store is not open');
  }

  private read<T>(f: () => T): Promise<T> {
    try {
      this.check();
      const v = f();
      this.m.queries.inc();
      return Promise.resolve(v);
    } catch (err) {
      this.m.errors.inc();
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private write(f: () => void): Promise<void> {
    try {
      this.check();
      f();
      this.m.writes.inc();
      return Promise.resolve();
    } catch (err) {
      this.m.errors.inc();
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  appendRecords(records: readonly SelectedRecord[]): Promise<void> {
    return this.write(() => {
      // validate the whole batch before keeping any of it
      const entries = records.map((r): RecordEntry => {
        const k = recordKeys(r);
        return { r: structuredClone(r), k, day: retentionDay(r.provenance.retainUntil) };
      });
      for (const e of entries) {
        this.records.push(e);
        bump(this.recordDays, e.day, 1);
        for (const step of ['1m', '1h'] as const) {
          const t = Math.floor(e.k.t / STEP_MS[step]) * STEP_MS[step];
          const key = `${t}|${e.r.provenance.providerId}`;
          const b = this.rollups[step].get(key);
          if (b) {
            b.records++;
            b.packets += e.k.packets;
            b.bytes += e.k.bytes;
          } else this.rollups[step].set(key, { records: 1, packets: e.k.packets, bytes: e.k.bytes });
        }
      }
      this.m.recordsAppended.inc(entries.length);
      const over = this.records.length - this.maxRecords;
      if (over > 0) {
        for (const e of this.records.slice(0, over)) bump(this.recordDays, e.day, -1);
        this.records = this.records.slice(over);
        this.m.evicted.inc(over);
      }
    });
  }

  queryRecords(q: RecordQuery): Promise<Page<SelectedRecord>> {
    return this.read(() => {
      checkRange(q.from, q.to);
      const match = this.records.filter(({ r, k }) => {
        if (k.t < q.from || k.t >= q.to) return false;
        if (q.recordType !== undefined && r.recordType !== q.recordType) return false;
        if (q.providerId !== undefined && r.provenance.providerId !== q.providerId) return false;
        if (q.channel !== undefined && r.provenance.channel !== q.channel) return false;
        if (q.address !== undefined && k.srcAddr !== q.address && k.dstAddr !== q.address) return false;
        if (q.port !== undefined && k.srcPort !== q.port && k.dstPort !== q.port) return false;
        if (q.protocolIdentifier !== undefined && k.proto !== q.protocolIdentifier) return false;
        if (q.qname !== undefined && !qnameMatches(k.qname, q.qname)) return false;
        return true;
      });
      return page(
        'records',
        match,
        (e) => ({ t: e.k.t, id: e.r.recordId }),
        (e) => structuredClone(e.r),
        q,
      );
    });
  }

  getRecords(ids: readonly string[]): Promise<SelectedRecord[]> {
    return this.read(() => {
      const wanted = uniqueIds(ids);
      const found = new Map<string, SelectedRecord>();
      for (const { r } of this.records)
        if (wanted.has(r.recordId) && !found.has(r.recordId)) found.set(r.recordId, r);
      return [...wanted].flatMap((id) => {
        const r = found.get(id);
        return r ? [structuredClone(r)] : [];
      });
    });
  }

  appendEvidence(evidence: readonly Evidence[], retainUntil: number): Promise<void> {
    return this.write(() => {
      const day = retentionDay(retainUntil);
      for (const e of evidence) {
        this.evidence.push({ e: structuredClone(e), day, id: evidenceSeqId(++this.evidenceSeq) });
        bump(this.evidenceDays, day, 1);
      }
      this.m.evidenceAppended.inc(evidence.length);
      const over = this.evidence.length - this.maxEvidence;
      if (over > 0) {
        for (const e of this.evidence.slice(0, over)) bump(this.evidenceDays, e.day, -1);
        this.evidence = this.evidence.slice(over);
        this.m.evicted.inc(over);
      }
    });
  }

  queryEvidence(q: EvidenceQuery): Promise<Page<Evidence>> {
    return this.read(() => {
      checkRange(q.from, q.to);
      const match = this.evidence.filter(({ e }) => {
        if (e.window.start < q.from || e.window.start >= q.to) return false;
        if (q.detector !== undefined && e.detector !== q.detector) return false;
        if (q.address !== undefined && e.subject !== q.address && e.counterpart !== q.address) return false;
        return true;
      });
      return page(
        'evidence',
        match,
        (x) => ({ t: x.e.window.start, id: x.id }),
        (x) => structuredClone(x.e),
        q,
      );
    });
  }

  upsertAlerts(alerts: readonly Alert[]): Promise<void> {
    return this.write(() => {
      for (const a of alerts) this.alerts.set(a.id, structuredClone(a));
      this.m.alertsUpserted.inc(alerts.length);
    });
  }

  getAlert(id: string): Promise<Alert | undefined> {
    return this.read(() => {
      const a = this.alerts.get(id);
      return a ? structuredClone(a) : undefined;
    });
  }

  listAlerts(q: AlertQuery): Promise<Page<Alert>> {
    return this.read(() => {
      const min = q.severityAtLeast !== undefined ? severityRank(q.severityAtLeast) : 0;
      const match = [...this.alerts.values()].filter((a) => {
        if (q.detector !== undefined && a.detector !== q.detector) return false;
        if (q.subject !== undefined && a.subject !== q.subject) return false;
        if (severityRank(a.severity) < min) return false;
        if (q.incidentId !== undefined && a.incidentId !== q.incidentId) return false;
        if (q.since !== undefined && a.lastSeen < q.since) return false;
        if (q.until !== undefined && a.firstSeen >= q.until) return false;
        return true;
      });
      return page(
        'alerts',
        match,
        (a) => ({ t: a.lastSeen, id: a.id }),
        (a) => structuredClone(a),
        q,
      );
    });
  }

  upsertIncidents(incidents: readonly Incident[]): Promise<void> {
    return this.write(() => {
      for (const i of incidents) this.incidents.set(i.id, structuredClone(i));
      this.m.incidentsUpserted.inc(incidents.length);
    });
  }

  deleteIncidents(ids: readonly string[]): Promise<void> {
    return this.write(() => {
      for (const id of ids) this.incidents.delete(id);
    });
  }

  getIncident(id: string): Promise<IncidentDetail | undefined> {
    return this.read(() => {
      const incident = this.incidents.get(id);
      if (!incident) return undefined;
      const alerts: Alert[] = [];
      for (const aid of incident.alerts.slice(0, MAX_LIMIT)) {
        const a = this.alerts.get(aid);
        if (a) alerts.push(structuredClone(a));
      }
      return { incident: structuredClone(incident), alerts };
    });
  }

  listIncidents(q: IncidentQuery): Promise<Page<Incident>> {
    return this.read(() => {
      const min = q.severityAtLeast !== undefined ? severityRank(q.severityAtLeast) : 0;
      const match = [...this.incidents.values()].filter((i) => {
        if (q.state !== undefined && i.state !== q.state) return false;
        if (severityRank(i.severity) < min) return false;
        if (q.detector !== undefined && !i.detectors.includes(q.detector)) return false;
        if (q.operatorId !== undefined && !i.operators.includes(q.operatorId)) return false;
        if (q.address !== undefined && !i.subjects.includes(q.address) && !i.counterparts.includes(q.address))
          return false;
        if (q.since !== undefined && i.lastSeen < q.since) return false;
        if (q.until !== undefined && i.firstSeen >= q.until) return false;
        return true;
      });
      return page(
        'incidents',
        match,
        (i) => ({ t: i.lastSeen, id: i.id }),
        (i) => structuredClone(i),
        q,
      );
    });
  }

  putSuppression(rule: SuppressionRule): Promise<void> {
    return this.write(() => {
      this.suppressions.set(rule.id, structuredClone(rule));
    });
  }

  async deleteSuppression(id: string): Promise<boolean> {
    let found = false;
    await this.write(() => {
      found = this.suppressions.delete(id);
    });
    return found;
  }

  listSuppressions(): Promise<SuppressionRule[]> {
    return this.read(() =>
      [...this.suppressions.values()]
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((r) => structuredClone(r)),
    );
  }

  putOperators(file: OperatorsFile): Promise<void> {
    return this.write(() => {
      this.operators = structuredClone(file);
    });
  }

  getOperators(): Promise<OperatorsFile | undefined> {
    return this.read(() => (this.operators ? structuredClone(this.operators) : undefined));
  }

  putCase(c: CaseRecord): Promise<void> {
    return this.write(() => {
      this.cases.set(c.id, structuredClone(c));
    });
  }

  getCase(id: string): Promise<CaseRecord | undefined> {
    return this.read(() => {
      const c = this.cases.get(id);
      return c ? structuredClone(c) : undefined;
    });
  }

  listCases(q: PageQuery & { kind?: string; state?: string }): Promise<Page<CaseRecord>> {
    return this.read(() => {
      const match = [...this.cases.values()].filter(
        (c) => (q.kind === undefined || c.kind === q.kind) && (q.state === undefined || c.state === q.state),
      );
      return page(
        'cases',
        match,
        (c) => ({ t: c.updatedAt, id: c.id }),
        (c) => structuredClone(c),
        q,
      );
    });
  }

  appendAudit(entries: readonly AuditRecord[]): Promise<void> {
    return this.write(() => {
      let expect = this.audit.length + 1;
      for (const e of entries) {
        if (e.seq !== expect)
          throw new StoreError(
            'ERR_STORE_AUDIT_SEQ',
            `audit entry seq ${e.seq} does not continue the chain (expected ${expect})`,
          );
        expect++;
      }
      for (const e of entries) this.audit.push(structuredClone(e));
      this.m.auditAppended.inc(entries.length);
    });
  }

  readAudit(fromSeq: number, limit: number): Promise<AuditRecord[]> {
    return this.read(() => {
      if (!Number.isInteger(fromSeq))
        throw new StoreError('ERR_STORE_BAD_QUERY', 'fromSeq must be an integer');
      const n = clampLimit(limit);
      return this.audit
        .slice(Math.max(0, fromSeq - 1), Math.max(0, fromSeq - 1 + n))
        .map((e) => structuredClone(e));
    });
  }

  searchAudit(q: AuditQuery): Promise<AuditRecord[]> {
    return this.read(() => {
      if (q.beforeSeq !== undefined && !Number.isInteger(q.beforeSeq))
        throw new StoreError('ERR_STORE_BAD_QUERY', 'beforeSeq must be an integer');
      const n = clampLimit(q.limit);
      const out: AuditRecord[] = [];
      const start = Math.min(this.audit.length, (q.beforeSeq ?? Infinity) - 1);
      for (let i = start - 1; i >= 0 && out.length < n; i--) {
        const e = this.audit[i] as AuditRecord;
        if (q.from !== undefined && e.at < q.from) continue;
        if (q.to !== undefined && e.at >= q.to) continue;
        if (q.actor !== undefined && e.actor !== q.actor) continue;
        if (q.actionPrefix !== undefined && !e.action.startsWith(q.actionPrefix)) continue;
        out.push(structuredClone(e));
      }
      return out;
    });
  }

  lastAudit(): Promise<AuditRecord | undefined> {
    return this.read(() => {
      const e = this.audit[this.audit.length - 1];
      return e ? structuredClone(e) : undefined;
    });
  }

  series(q: SeriesQuery): Promise<RollupPoint[]> {
    return this.read(() => {
      checkRange(q.from, q.to);
      const stepMs = STEP_MS[q.step];
      if (stepMs === undefined) throw new StoreError('ERR_STORE_BAD_QUERY', `unknown step ${String(q.step)}`);
      const out: RollupPoint[] = [];
      if (q.providerId !== ALERTS_PROVIDER) {
        for (const [key, b] of this.rollups[q.step]) {
          const bar = key.indexOf('|');
          const t = Number(key.slice(0, bar));
          const providerId = key.slice(bar + 1);
          if (t < q.from || t >= q.to) continue;
          if (q.providerId !== undefined && providerId !== q.providerId) continue;
          out.push({ t, providerId, records: b.records, packets: b.packets, bytes: b.bytes, alerts: 0 });
        }
      }
      if (q.providerId === undefined || q.providerId === ALERTS_PROVIDER) {
        const counts = new Map<number, number>();
        for (const a of this.alerts.values()) {
          const t = Math.floor(a.firstSeen / stepMs) * stepMs;
          if (t >= q.from && t < q.to) counts.set(t, (counts.get(t) ?? 0) + 1);
        }
        for (const [t, n] of counts)
          out.push({ t, providerId: ALERTS_PROVIDER, records: 0, packets: 0, bytes: 0, alerts: n });
      }
      out.sort(
        (a, b) => a.t - b.t || (a.providerId < b.providerId ? -1 : a.providerId > b.providerId ? 1 : 0),
      );
      return out.slice(0, MAX_SERIES_POINTS);
    });
  }

  top(q: TopQuery): Promise<TopEntry[]> {
    return this.read(() => {
      checkRange(q.from, q.to);
      const limit = clampLimit(q.limit);
      const acc = new Map<string, TopEntry>();
      const add = (key: string, bytes: number): void => {
        const e = acc.get(key);
        if (e) {
          e.count++;
          e.bytes += bytes;
        } else acc.set(key, { key, count: 1, bytes });
      };
      if (q.dimension === 'detector') {
        for (const a of this.alerts.values())
          if (a.lastSeen >= q.from && a.lastSeen < q.to) add(a.detector, 0);
      } else {
        for (const { r, k } of this.records) {
          if (k.t < q.from || k.t >= q.to) continue;
          switch (q.dimension) {
            case 'sourceCountry':
              add(r.source.country, k.bytes);
              break;
            case 'destinationCountry':
              add(r.destination.country, k.bytes);
              break;
            case 'sourceAsn':
              add(String(r.source.asn), k.bytes);
              break;
            case 'destinationAsn':
              add(String(r.destination.asn), k.bytes);
              break;
            case 'destinationPort':
              if (k.dstPort !== null) add(String(k.dstPort), k.bytes);
              break;
            default:
              throw new StoreError('ERR_STORE_BAD_QUERY', `unknown dimension ${String(q.dimension)}`);
          }
        }
      }
      return [...acc.values()]
        .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
        .slice(0, limit);
    });
  }

  partitions(): Promise<Partition[]> {
    return this.read(() => this.partitionList());
  }

  private partitionList(): Partition[] {
    const out: Partition[] = [];
    for (const [day, rows] of this.recordDays) out.push({ kind: 'records', day, rows });
    for (const [day, rows] of this.evidenceDays) out.push({ kind: 'evidence', day, rows });
    return out.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.kind < b.kind ? 1 : -1));
  }

  enforceRetention(now: number, options?: RetentionOptions): Promise<RetentionResult> {
    return this.read(() => {
      const o = checkRetention(now, options);
      const expired = this.partitionList().filter((p) => dayExpired(p.day, o.now));
      const dropped = expired.filter((p) => !o.heldDays.has(p.day));
      const held = expired.filter((p) => o.heldDays.has(p.day));
      const counts = zeroRetentionCounts();
      const recordDays = new Set(dropped.filter((p) => p.kind === 'records').map((p) => p.day));
      const evidenceDays = new Set(dropped.filter((p) => p.kind === 'evidence').map((p) => p.day));
      if (recordDays.size > 0) {
        const before = this.records.length;
        this.records = this.records.filter((e) => !recordDays.has(e.day));
        counts.records = before - this.records.length;
      }
      if (evidenceDays.size > 0) {
        const before = this.evidence.length;
        this.evidence = this.evidence.filter((e) => !evidenceDays.has(e.day));
        counts.evidence = before - this.evidence.length;
      }
      for (const d of recordDays) this.recordDays.delete(d);
      for (const d of evidenceDays) this.evidenceDays.delete(d);
      let remainingRows =
        this.records.filter((e) => recordDays.has(e.day)).length +
        this.evidence.filter((e) => evidenceDays.has(e.day)).length;
      if (o.derivedBefore !== undefined) {
        const cut = o.derivedBefore;
        const keptAlerts = new Set<string>();
        for (const id of o.heldIncidents)
          for (const a of this.incidents.get(id)?.alerts ?? []) keptAlerts.add(a);
        const alertGoes = (a: Alert): boolean =>
          a.lastSeen < cut &&
          !keptAlerts.has(a.id) &&
          !(a.incidentId !== undefined && o.heldIncidents.has(a.incidentId));
        const incidentGoes = (i: Incident): boolean => i.lastSeen < cut && !o.heldIncidents.has(i.id);
        for (const a of [...this.alerts.values()])
          if (alertGoes(a)) {
            this.alerts.delete(a.id);
            counts.alerts++;
          }
        for (const i of [...this.incidents.values()])
          if (incidentGoes(i)) {
            this.incidents.delete(i.id);
            counts.incidents++;
          }
        for (const step of ['1m', '1h'] as const) {
          const table = step === '1m' ? 'rollup_1m' : 'rollup_1h';
          const goes = (key: string): boolean =>
            Number(key.slice(0, key.indexOf('|'))) + STEP_MS[step] <= cut;
          for (const key of [...this.rollups[step].keys()])
            if (goes(key)) {
              this.rollups[step].delete(key);
              counts[table]++;
            }
          remainingRows += [...this.rollups[step].keys()].filter(goes).length;
        }
        remainingRows +=
          [...this.alerts.values()].filter(alertGoes).length +
          [...this.incidents.values()].filter(incidentGoes).length;
      }
      this.m.partitionsDropped.inc(dropped.length);
      this.m.rowsDropped.inc(Object.values(counts).reduce((x, n) => x + n, 0));
      return { dropped, held, counts, remainingRows };
    });
  }

  stats(): Promise<StoreStats> {
    return this.read(() => ({
      records: this.records.length,
      evidence: this.evidence.length,
      alerts: this.alerts.size,
      incidents: this.incidents.size,
      partitions: this.recordDays.size + this.evidenceDays.size,
      audit: this.audit.length,
      bytesOnDisk: 0,
    }));
  }
}
