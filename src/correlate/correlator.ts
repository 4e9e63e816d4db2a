/**
 * The correlator: evidence → alerts (deduplicated per detector, subject and time) → incidents
 * (grouped by shared infrastructure, victims, sector and time), scored, with a lifecycle and
 * suppression rules. Streaming: `push` returns what changed (and hands it to `onChange`), `flush`
 * returns everything changed since the previous flush, `snapshot` returns everything held. The
 * algorithm and every decision are described in README.md.
 */
import { createHash } from 'node:crypto';
import type { Alert, Incident, IncidentState, SuppressionRule } from '../common/schema/alert.ts';
import type { Evidence, Severity } from '../common/schema/evidence.ts';
import type { DetectorName } from '../common/schema/legal.ts';
import type { OperatorsFile } from '../common/operators/index.ts';
import { systemClock, type Clock } from '../common/clock.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { silentLogger, type Logger } from '../common/logging.ts';
import type { CorrelateConfig } from './config.ts';
import { NotFoundError } from './errors.ts';
import { copyEvidence, evidenceProblem } from './evidence.ts';
import { applyTransition, stateRank } from './lifecycle.ts';
import { correlateMetrics, type CorrelateMetrics } from './metrics.ts';
import { OperatorIndex, type OperatorLookup, type OperatorMatch } from './operators.ts';
import { alertScore, incidentScore, maxSeverity, severityRank, VICTIM_ROLE } from './score.ts';
import { SuppressionList, falsePositiveRule } from './suppression.ts';
import { alertSummary, incidentSummary } from './summary.ts';

/** What one call changed. Alerts and incidents are copies: the caller may keep or change them. */
export interface CorrelationDelta {
  /** Alerts created or changed (current state). */
  alerts: Alert[];
  /** Incidents created or changed (current state). */
  incidents: Incident[];
  /** Incidents absorbed into another one; `id` no longer exists. */
  merged: { id: string; into: string }[];
  /** Ids dropped from memory because a cap was reached (their last state was reported before). */
  evicted: { alerts: string[]; incidents: string[] };
}

/** Everything the correlator holds (for `acd analyze` and the store at start-up). */
export interface CorrelationSnapshot {
  /** Ordered by firstSeen, then id. */
  alerts: Alert[];
  /** Ordered by firstSeen, then id. */
  incidents: Incident[];
}

/** Figures about the correlator's state. */
export interface CorrelatorStats {
  alerts: number;
  incidents: number;
  rules: number;
}

/** Collaborators of the correlator. */
export interface CorrelatorDeps {
  /** Processing time (incident `updatedAt`, transitions, rule expiry). */
  clock?: Clock;
  /** The critical-infrastructure operators file (optional). */
  operators?: OperatorsFile;
  /** The centre's address → operator hook (see operators.ts for why). */
  operatorOf?: OperatorLookup;
  /** Suppression rules in force at start (the centre persists them). */
  rules?: readonly SuppressionRule[];
  /** Called with every non-empty delta (push, transition, rule changes). */
  onChange?: (delta: CorrelationDelta) => void;
  metrics?: MetricsRegistry;
  logger?: Logger;
}

/** The correlator's public surface. */
export interface Correlator {
  /** Folds one evidence in; returns (and emits) what changed. Malformed evidence changes nothing. */
  push(evidence: Evidence): CorrelationDelta;
  /**
   * Re-checks rule expiry, then returns every alert and incident changed since the previous flush
   * (one entry each, current state): the coalesced view for writers that batch (store, files).
   */
  flush(): CorrelationDelta;
  /** All alerts and incidents held. */
  snapshot(): CorrelationSnapshot;
  /** Copy of one alert; `undefined` when not held. */
  alert(id: string): Alert | undefined;
  /** Copy of one incident; `undefined` when not held. */
  incident(id: string): Incident | undefined;
  /**
   * Moves an incident through its lifecycle (lifecycle.ts); throws `IncidentTransitionError`
   * (`ERR_INCIDENT_TRANSITION`) when not allowed, `NotFoundError` for an unknown id.
   */
  transition(incidentId: string, to: IncidentState, actor: string, reason: string): Incident;
  /**
   * Adds (or replaces) a suppression rule and re-scores the alerts held; throws
   * `SuppressionRuleError` for an invalid rule.
   */
  addSuppression(rule: SuppressionRule): CorrelationDelta;
  /** Removes a rule (idempotent: an unknown id changes nothing) and re-scores the alerts held. */
  removeSuppression(id: string): CorrelationDelta;
  /** The rules, ordered by id. */
  suppressions(): SuppressionRule[];
  /**
   * The analyst's "false positive" action: a rule for the alert's detector and subject (for
   * `ttlMs`, or until removed), applied at once. Returns the rule and the resulting delta.
   */
  markFalsePositive(
    alertId: string,
    actor: string,
    reason: string,
    ttlMs?: number,
  ): { rule: SuppressionRule; delta: CorrelationDelta };
  stats(): CorrelatorStats;
}

interface AlertRec {
  a: Alert;
  key: string;
  head: Evidence[];
  tail: Evidence[];
  confidence: number;
  base: Severity;
  cps: Set<string>;
  ops: Map<string, OperatorMatch>;
  victimOps: Map<string, OperatorMatch>;
}

/** What an alert contributes to its incident (kept after the alert itself is evicted). */
interface Contribution {
  detector: DetectorName;
  severity: Severity;
  score: number;
  suppressed: boolean;
  subject: string;
  counterparts: string[];
  victims: string[];
  victimOps: string[];
  victimSectors: string[];
  operators: string[];
  sectors: string[];
  firstSeen: number;
  lastSeen: number;
}

interface IncRec {
  i: Incident;
  seq: number;
  contrib: Map<string, Contribution>;
  held: Set<string>;
  keys: Set<string>;
  subjects: Set<string>;
  counterparts: Set<string>;
  detectors: Set<DetectorName>;
  operators: Set<string>;
  sectors: Set<string>;
  activeDetectors: Set<DetectorName>;
  activeVictims: Set<string>;
  activeVictimOps: Set<string>;
  activeVictimSectors: Set<string>;
  maxScore: number;
  maxSeverity: Severity;
}

/** Ids remembered after eviction or merge so that they are never handed out again. */
const RETIRED_IDS = 65_536;
/** Alerts of one (detector, subject) looked at when folding (the newest ones). */
const FOLD_CANDIDATES = 8;
/** Incidents scanned from the least recently updated end for a closed one to evict. */
const EVICT_SCAN = 256;

function hashId(prefix: string, parts: readonly (string | number)[]): string {
  return prefix + createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 20);
}

function emptyDelta(): CorrelationDelta {
  return { alerts: [], incidents: [], merged: [], evicted: { alerts: [], incidents: [] } };
}

function isEmpty(d: CorrelationDelta): boolean {
  return (
    d.alerts.length === 0 &&
    d.incidents.length === 0 &&
    d.merged.length === 0 &&
    d.evicted.alerts.length === 0 &&
    d.evicted.incidents.length === 0
  );
}

function byTime<T extends { firstSeen: number; id: string }>(a: T, b: T): number {
  return a.firstSeen - b.firstSeen || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

function firstN<T>(set: Set<T>, n: number): T[] {
  const out: T[] = [];
  for (const v of set) {
    if (out.length >= n) break;
    out.push(v);
  }
  return out;
}

/** Collects what one operation changed, then turns it into a delta of copies. */
class Changes {
  readonly alerts = new Set<string>();
  readonly incidents = new Set<string>();
  readonly merged: { id: string; into: string }[] = [];
  readonly evictedAlerts: string[] = [];
  readonly evictedIncidents: string[] = [];
}

class CorrelatorImpl implements Correlator {
  private readonly cfg: CorrelateConfig;
  private readonly clock: Clock;
  private readonly index: OperatorIndex;
  private readonly suppression = new SuppressionList();
  private readonly onChange: ((d: CorrelationDelta) => void) | undefined;
  private readonly m: CorrelateMetrics;
  private readonly log: Logger;

  /** Held alerts, least recently updated first. */
  private readonly alerts = new Map<string, AlertRec>();
  /** (detector, subject) → held alert ids, oldest first. */
  private readonly byKey = new Map<string, string[]>();
  /** Held incidents, least recently updated first. */
  private readonly incidents = new Map<string, IncRec>();
  /** Alert id → incident id for every alert of a held incident (held or evicted alert). */
  private readonly home = new Map<string, string>();
  /** Linking key (`a:` address, `s:` sector) → open incidents holding it. */
  private readonly links = new Map<string, Set<string>>();
  private readonly retired = new Set<string>();
  private seq = 0;
  private pending = new Changes();

  constructor(cfg: CorrelateConfig, deps: CorrelatorDeps) {
    this.cfg = cfg;
    this.clock = deps.clock ?? systemClock;
    this.index = new OperatorIndex(deps.operators, {
      ranges: cfg.operatorRanges,
      cacheEntries: cfg.operatorCacheEntries,
      operatorOf: deps.operatorOf,
    });
    for (const r of deps.rules ?? []) this.suppression.add(r);
    this.onChange = deps.onChange;
    this.m = correlateMetrics(deps.metrics ?? new MetricsRegistry());
    this.log = deps.logger ?? silentLogger;
    this.m.alertsHeld.set(0);
    this.m.incidentsHeld.set(0);
  }

  // ---- public surface -------------------------------------------------------------------------

  push(evidence: Evidence): CorrelationDelta {
    const problem = evidenceProblem(evidence);
    if (problem !== undefined) {
      this.m.evidenceRejected.labels({ reason: problem }).inc();
      this.log.debug({ reason: problem }, 'evidence refused');
      return emptyDelta();
    }
    this.m.evidence.inc();
    const e = copyEvidence(evidence);
    const ch = new Changes();
    const now = this.clock.now();
    let rec = this.findAlert(e);
    // Down-ranked evidence alone is not an alert (README, "Alerts"); it is kept in the evidence
    // store by the caller and still extends an alert that stronger evidence opened.
    if (!rec && severityRank(e.severity) < severityRank(this.cfg.minAlertSeverity)) {
      this.m.evidenceBelowAlert.inc();
      return emptyDelta();
    }
    let before: Contribution | undefined;
    if (rec) {
      before = this.contributionOf(rec);
      this.fold(rec, e);
      this.m.alertsUpdated.inc();
    } else {
      rec = this.createAlert(e);
      this.m.alertsCreated.inc();
    }
    this.derive(rec, now);
    if (rec.a.suppressedBy !== undefined && before?.suppressed !== true) this.m.alertsSuppressed.inc();
    ch.alerts.add(rec.a.id);
    this.touchAlert(rec);
    this.attach(rec, before, now, ch);
    this.evict(ch);
    return this.finish(ch);
  }

  flush(): CorrelationDelta {
    this.refreshSuppression(new Changes(), true);
    const p = this.pending;
    this.pending = new Changes();
    return this.build(p);
  }

  snapshot(): CorrelationSnapshot {
    return {
      alerts: [...this.alerts.values()].map((r) => structuredClone(r.a)).sort(byTime),
      incidents: [...this.incidents.values()].map((r) => structuredClone(r.i)).sort(byTime),
    };
  }

  alert(id: string): Alert | undefined {
    const r = this.alerts.get(id);
    return r ? structuredClone(r.a) : undefined;
  }

  incident(id: string): Incident | undefined {
    const r = this.incidents.get(id);
    return r ? structuredClone(r.i) : undefined;
  }

  transition(incidentId: string, to: IncidentState, actor: string, reason: string): Incident {
    const rec = this.incidents.get(incidentId);
    if (!rec) throw new NotFoundError('incident', incidentId);
    applyTransition(rec.i, to, actor, reason, this.clock.now());
    this.m.transitions.labels({ to }).inc();
    // A closed incident is final: it no longer links new alerts (README, "Lifecycle").
    if (rec.i.state === 'closed') this.unlink(rec);
    const ch = new Changes();
    ch.incidents.add(rec.i.id);
    this.touchIncident(rec);
    this.finish(ch);
    return structuredClone(rec.i);
  }

  addSuppression(rule: SuppressionRule): CorrelationDelta {
    this.suppression.add(rule);
    const ch = new Changes();
    this.refreshSuppression(ch, false);
    return this.finish(ch);
  }

  removeSuppression(id: string): CorrelationDelta {
    if (!this.suppression.remove(id)) return emptyDelta();
    const ch = new Changes();
    this.refreshSuppression(ch, false);
    return this.finish(ch);
  }

  suppressions(): SuppressionRule[] {
    return this.suppression.list();
  }

  markFalsePositive(
    alertId: string,
    actor: string,
    reason: string,
    ttlMs?: number,
  ): { rule: SuppressionRule; delta: CorrelationDelta } {
    const rec = this.alerts.get(alertId);
    if (!rec) throw new NotFoundError('alert', alertId);
    const rule = falsePositiveRule(rec.a, actor, reason, this.clock.now(), ttlMs);
    return { rule, delta: this.addSuppression(rule) };
  }

  stats(): CorrelatorStats {
    return { alerts: this.alerts.size, incidents: this.incidents.size, rules: this.suppression.size };
  }

  // ---- alerts ---------------------------------------------------------------------------------

  private findAlert(e: Evidence): AlertRec | undefined {
    const ids = this.byKey.get(e.detector + '\n' + e.subject);
    if (!ids) return undefined;
    const gap = this.cfg.alertGapMs;
    for (let k = ids.length - 1, n = 0; k >= 0 && n < FOLD_CANDIDATES; k--, n++) {
      const rec = this.alerts.get(ids[k] ?? '');
      if (!rec) continue;
      const inc = this.incidents.get(rec.a.incidentId ?? '');
      // Evidence never extends an alert of a closed incident: it starts a new alert instead.
      if (!inc || inc.i.state === 'closed') continue;
      if (e.window.start <= rec.a.lastSeen + gap && e.window.end >= rec.a.firstSeen - gap) return rec;
    }
    return undefined;
  }

  private freshId(prefix: string, parts: readonly (string | number)[]): string {
    const base = hashId(prefix, parts);
    let id = base;
    for (
      let n = 2;
      this.home.has(id) || this.alerts.has(id) || this.incidents.has(id) || this.retired.has(id);
      n++
    )
      id = `${base}-${n}`;
    return id;
  }

  private createAlert(e: Evidence): AlertRec {
    const key = e.detector + '\n' + e.subject;
    // Stable: the same evidence stream (and the same analyst actions) gives the same ids.
    const id = this.freshId('a-', [e.detector, e.subject, e.window.start, e.window.end]);
    const a: Alert = {
      id,
      detector: e.detector,
      subject: e.subject,
      counterparts: [],
      severity: e.severity,
      score: 0,
      firstSeen: e.window.start,
      lastSeen: e.window.end,
      summary: '',
      operators: [],
      sectors: [],
      evidence: [e],
      evidenceCount: 1,
    };
    const rec: AlertRec = {
      a,
      key,
      head: [e],
      tail: [],
      confidence: e.confidence,
      base: e.severity,
      cps: new Set(),
      ops: new Map(),
      victimOps: new Map(),
    };
    const subjectOps = this.index.ofAddress(e.subject);
    this.addOps(rec, subjectOps, VICTIM_ROLE[e.detector] === 'subject');
    this.addFacts(rec, e);
    if (e.counterpart !== undefined) this.addCounterpart(rec, e.counterpart);
    this.alerts.set(id, rec);
    const list = this.byKey.get(key);
    if (list) list.push(id);
    else this.byKey.set(key, [id]);
    return rec;
  }

  private fold(rec: AlertRec, e: Evidence): void {
    const a = rec.a;
    a.evidenceCount++;
    if (rec.head.length < this.cfg.evidenceHead) rec.head.push(e);
    else {
      rec.tail.push(e);
      if (rec.tail.length > this.cfg.evidenceTail) rec.tail.shift();
    }
    a.evidence = rec.tail.length === 0 ? [...rec.head] : [...rec.head, ...rec.tail];
    if (e.window.start < a.firstSeen) a.firstSeen = e.window.start;
    if (e.window.end > a.lastSeen) a.lastSeen = e.window.end;
    if (e.confidence > rec.confidence) rec.confidence = e.confidence;
    rec.base = maxSeverity(rec.base, e.severity);
    this.addFacts(rec, e);
    if (e.counterpart !== undefined) this.addCounterpart(rec, e.counterpart);
  }

  private addCounterpart(rec: AlertRec, cp: string): void {
    if (rec.cps.has(cp) || cp === rec.a.subject) return;
    if (rec.a.counterparts.length >= this.cfg.maxCounterparts) return;
    rec.cps.add(cp);
    rec.a.counterparts.push(cp);
    this.addOps(rec, this.index.ofAddress(cp), VICTIM_ROLE[rec.a.detector] === 'counterpart');
  }

  private addFacts(rec: AlertRec, e: Evidence): void {
    for (const name of this.cfg.domainFacts) {
      const v = e.facts[name];
      // A name in the facts makes its operator involved, never a victim: querying a bank's
      // domain does not harm the bank.
      if (typeof v === 'string') this.addOps(rec, this.index.ofDomain(v), false);
    }
  }

  private addOps(rec: AlertRec, ops: readonly OperatorMatch[], victim: boolean): void {
    for (const op of ops) {
      rec.ops.set(op.id, op);
      if (victim) rec.victimOps.set(op.id, op);
    }
  }

  /** Recomputes the alert's derived fields: operators, severity, suppression, score, summary. */
  private derive(rec: AlertRec, now: number): void {
    const a = rec.a;
    a.operators = [...rec.ops.keys()].sort();
    a.sectors = sortedUnique([...rec.ops.values()].map((o) => o.sector));
    a.severity = rec.victimOps.size > 0 ? 'critical' : rec.base;
    this.applyRule(rec, now);
  }

  private applyRule(rec: AlertRec, now: number): void {
    const a = rec.a;
    const rule = this.suppression.match(a.detector, a.subject, a.counterparts, now);
    if (rule) a.suppressedBy = rule.id;
    else delete a.suppressedBy;
    a.score = alertScore(
      {
        confidence: rec.confidence,
        evidenceCount: a.evidenceCount,
        durationMs: a.lastSeen - a.firstSeen,
        counterparts: a.counterparts.length,
        operatorImpact: rec.victimOps.size > 0 ? 1 : rec.ops.size > 0 ? 0.5 : 0,
        suppressed: rule !== undefined,
      },
      this.cfg.score,
    );
    a.summary = alertSummary(a);
  }

  private contributionOf(rec: AlertRec): Contribution {
    const a = rec.a;
    const victimOps = [...rec.victimOps.values()];
    return {
      detector: a.detector,
      severity: a.severity,
      score: a.score,
      suppressed: a.suppressedBy !== undefined,
      subject: a.subject,
      counterparts: [...a.counterparts],
      victims: VICTIM_ROLE[a.detector] === 'subject' ? [a.subject] : [...a.counterparts],
      victimOps: victimOps.map((o) => o.id),
      victimSectors: sortedUnique(victimOps.map((o) => o.sector)),
      operators: [...a.operators],
      sectors: [...a.sectors],
      firstSeen: a.firstSeen,
      lastSeen: a.lastSeen,
    };
  }

  private touchAlert(rec: AlertRec): void {
    this.alerts.delete(rec.a.id);
    this.alerts.set(rec.a.id, rec);
  }

  // ---- incidents ------------------------------------------------------------------------------

  private linkKeys(c: Contribution): string[] {
    const keys = ['a:' + c.subject];
    for (const cp of c.counterparts) keys.push('a:' + cp);
    if (this.cfg.groupBySector) for (const s of c.victimSectors) keys.push('s:' + s);
    return keys;
  }

  /** Open, non-full incidents linked to `c` by a key and within `incidentGapMs` of its time. */
  private candidates(c: Contribution): IncRec[] {
    const gap = this.cfg.incidentGapMs;
    const seen = new Set<string>();
    const out: IncRec[] = [];
    let full = false;
    for (const k of this.linkKeys(c)) {
      for (const id of this.links.get(k) ?? []) {
        if (seen.has(id)) continue;
        seen.add(id);
        const inc = this.incidents.get(id);
        if (!inc || inc.i.state === 'closed') continue;
        if (c.firstSeen > inc.i.lastSeen + gap || c.lastSeen < inc.i.firstSeen - gap) continue;
        out.push(inc);
        if (inc.contrib.size >= this.cfg.maxIncidentAlerts) full = true;
      }
    }
    if (full) this.m.incidentsFull.inc();
    return out;
  }

  private attach(rec: AlertRec, before: Contribution | undefined, now: number, ch: Changes): void {
    const c = this.contributionOf(rec);
    const current = rec.a.incidentId === undefined ? undefined : this.incidents.get(rec.a.incidentId);
    const linked = this.candidates(c).filter((inc) => inc !== current);
    const group = current
      ? [current, ...linked]
      : linked.filter((inc) => inc.contrib.size < this.cfg.maxIncidentAlerts);
    let target: IncRec;
    if (group.length === 0) target = this.createIncident(rec.a.id, now);
    else {
      // The incident furthest in its lifecycle survives (an analyst is working on it), then the
      // oldest. Only incidents still `new` are absorbed; ones being handled stay separate.
      target = group.reduce((best, x) =>
        stateRank(x.i.state) > stateRank(best.i.state) ||
        (stateRank(x.i.state) === stateRank(best.i.state) && x.seq < best.seq)
          ? x
          : best,
      );
      for (const other of group) {
        if (other === target || other.i.state !== 'new') continue;
        if (target.contrib.size + other.contrib.size > this.cfg.maxIncidentAlerts) continue;
        this.merge(target, other, ch);
      }
    }
    // An alert never leaves its incident except by a merge: if its incident survived on its own
    // (being handled, or too big to merge), the alert stays there.
    const home = current && this.incidents.has(current.i.id) ? current : target;
    if (home.contrib.has(rec.a.id)) this.updateContribution(home, rec.a.id, c, before);
    else this.addToIncident(home, rec, c);
    for (const inc of home === target ? [home] : [home, target]) {
      this.finalise(inc, now);
      ch.incidents.add(inc.i.id);
      this.touchIncident(inc);
    }
    ch.alerts.add(rec.a.id);
  }

  private createIncident(firstAlertId: string, now: number): IncRec {
    const id = this.freshId('i-', [firstAlertId]);
    const i: Incident = {
      id,
      state: 'new',
      severity: 'low',
      score: 0,
      detectors: [],
      subjects: [],
      counterparts: [],
      operators: [],
      sectors: [],
      alerts: [],
      firstSeen: Number.POSITIVE_INFINITY,
      lastSeen: Number.NEGATIVE_INFINITY,
      summary: '',
      campaign: false,
      updatedAt: now,
      history: [],
    };
    const rec: IncRec = {
      i,
      seq: this.seq++,
      contrib: new Map(),
      held: new Set(),
      keys: new Set(),
      subjects: new Set(),
      counterparts: new Set(),
      detectors: new Set(),
      operators: new Set(),
      sectors: new Set(),
      activeDetectors: new Set(),
      activeVictims: new Set(),
      activeVictimOps: new Set(),
      activeVictimSectors: new Set(),
      maxScore: 0,
      maxSeverity: 'low',
    };
    this.incidents.set(id, rec);
    this.m.incidentsCreated.inc();
    return rec;
  }

  private addToIncident(inc: IncRec, rec: AlertRec, c: Contribution): void {
    const id = rec.a.id;
    inc.contrib.set(id, c);
    inc.held.add(id);
    this.home.set(id, inc.i.id);
    rec.a.incidentId = inc.i.id;
    // Keep `alerts` oldest first; evidence arrives nearly in order, so insertion is near the end.
    const list = inc.i.alerts;
    let k = list.length;
    while (k > 0) {
      const prev = inc.contrib.get(list[k - 1] ?? '');
      if (!prev || prev.firstSeen <= c.firstSeen) break;
      k--;
    }
    list.splice(k, 0, id);
    this.apply(inc, c);
  }

  private updateContribution(
    inc: IncRec,
    id: string,
    c: Contribution,
    before: Contribution | undefined,
  ): void {
    inc.contrib.set(id, c);
    // Alert values only grow while its suppression is unchanged; a flip needs a full recount.
    if (before !== undefined && before.suppressed !== c.suppressed) this.recount(inc);
    else this.apply(inc, c);
  }

  /** Adds a contribution to the incident's aggregates (values only grow). */
  private apply(inc: IncRec, c: Contribution): void {
    for (const k of this.linkKeys(c)) {
      if (inc.i.state !== 'closed') {
        let set = this.links.get(k);
        if (!set) this.links.set(k, (set = new Set()));
        set.add(inc.i.id);
      }
      inc.keys.add(k);
    }
    inc.subjects.add(c.subject);
    for (const cp of c.counterparts) inc.counterparts.add(cp);
    inc.detectors.add(c.detector);
    for (const o of c.operators) inc.operators.add(o);
    for (const s of c.sectors) inc.sectors.add(s);
    if (!c.suppressed) {
      inc.activeDetectors.add(c.detector);
      for (const v of c.victims) inc.activeVictims.add(v);
      for (const o of c.victimOps) inc.activeVictimOps.add(o);
      for (const s of c.victimSectors) inc.activeVictimSectors.add(s);
      inc.maxSeverity = maxSeverity(inc.maxSeverity, c.severity);
    }
    if (c.score > inc.maxScore) inc.maxScore = c.score;
    if (c.firstSeen < inc.i.firstSeen) inc.i.firstSeen = c.firstSeen;
    if (c.lastSeen > inc.i.lastSeen) inc.i.lastSeen = c.lastSeen;
  }

  private recount(inc: IncRec): void {
    inc.activeDetectors.clear();
    inc.activeVictims.clear();
    inc.activeVictimOps.clear();
    inc.activeVictimSectors.clear();
    inc.maxScore = 0;
    inc.maxSeverity = 'low';
    for (const c of inc.contrib.values()) this.apply(inc, c);
  }

  /** Recomputes the incident's public fields from its aggregates. */
  private finalise(inc: IncRec, now: number): void {
    const i = inc.i;
    const cfg = this.cfg;
    i.campaign =
      inc.activeDetectors.size >= cfg.campaignMinDetectors ||
      inc.activeVictimOps.size >= 2 ||
      inc.activeVictimSectors.size >= cfg.campaignMinSectors ||
      inc.activeVictims.size >= cfg.campaignMinVictims;
    // Suppressed alerts count as `low`: the incident exists, but a rule says they are benign.
    i.severity = i.campaign || inc.activeVictimOps.size > 0 ? 'critical' : inc.maxSeverity;
    i.score = incidentScore(inc.maxScore, i.campaign, cfg.score);
    i.detectors = [...inc.detectors].sort();
    i.subjects = firstN(inc.subjects, cfg.maxIncidentMembers);
    i.counterparts = firstN(inc.counterparts, cfg.maxIncidentMembers);
    i.operators = [...inc.operators].sort();
    i.sectors = [...inc.sectors].sort();
    i.updatedAt = now;
    i.summary = incidentSummary(i);
  }

  private merge(target: IncRec, other: IncRec, ch: Changes): void {
    for (const [id, c] of other.contrib) {
      target.contrib.set(id, c);
      this.home.set(id, target.i.id);
    }
    for (const id of other.held) {
      target.held.add(id);
      const rec = this.alerts.get(id);
      if (rec) {
        rec.a.incidentId = target.i.id;
        ch.alerts.add(id);
      }
    }
    const all = [...target.i.alerts, ...other.i.alerts];
    const first = (id: string): number => target.contrib.get(id)?.firstSeen ?? 0;
    target.i.alerts = all.sort((a, b) => first(a) - first(b) || (a < b ? -1 : a > b ? 1 : 0));
    target.i.mergedFrom = [...(target.i.mergedFrom ?? []), other.i.id, ...(other.i.mergedFrom ?? [])];
    for (const t of other.i.history) target.i.history.push(t);
    target.i.history.sort((a, b) => a.at - b.at);
    this.unlink(other);
    this.incidents.delete(other.i.id);
    this.retire(other.i.id);
    ch.merged.push({ id: other.i.id, into: target.i.id });
    this.m.incidentsMerged.inc();
    this.recount(target);
  }

  private unlink(inc: IncRec): void {
    for (const k of inc.keys) {
      const set = this.links.get(k);
      if (!set) continue;
      set.delete(inc.i.id);
      if (set.size === 0) this.links.delete(k);
    }
  }

  private touchIncident(inc: IncRec): void {
    this.incidents.delete(inc.i.id);
    this.incidents.set(inc.i.id, inc);
  }

  // ---- suppression ----------------------------------------------------------------------------

  /** Re-matches every held alert against the rules in force now; re-scores those that changed. */
  private refreshSuppression(ch: Changes, expiryOnly: boolean): void {
    if (expiryOnly && this.suppression.size === 0) return;
    const now = this.clock.now();
    const dirty = new Set<IncRec>();
    for (const rec of this.alerts.values()) {
      const was = rec.a.suppressedBy;
      const rule = this.suppression.match(rec.a.detector, rec.a.subject, rec.a.counterparts, now);
      if (rule?.id === was) continue;
      this.applyRule(rec, now);
      if (rec.a.suppressedBy !== undefined && was === undefined) this.m.alertsSuppressed.inc();
      ch.alerts.add(rec.a.id);
      const inc = this.incidents.get(rec.a.incidentId ?? '');
      if (inc) {
        inc.contrib.set(rec.a.id, this.contributionOf(rec));
        dirty.add(inc);
      }
    }
    for (const inc of dirty) {
      this.recount(inc);
      this.finalise(inc, now);
      ch.incidents.add(inc.i.id);
    }
    if (expiryOnly) this.finish(ch);
  }

  // ---- memory ---------------------------------------------------------------------------------

  private retire(id: string): void {
    if (this.retired.size >= RETIRED_IDS) {
      const oldest = this.retired.values().next();
      if (!oldest.done) this.retired.delete(oldest.value);
    }
    this.retired.add(id);
  }

  private dropAlert(rec: AlertRec, ch: Changes): void {
    const id = rec.a.id;
    this.alerts.delete(id);
    const list = this.byKey.get(rec.key);
    if (list) {
      const k = list.indexOf(id);
      if (k >= 0) list.splice(k, 1);
      if (list.length === 0) this.byKey.delete(rec.key);
    }
    this.incidents.get(rec.a.incidentId ?? '')?.held.delete(id);
    ch.evictedAlerts.push(id);
    this.m.alertsEvicted.inc();
  }

  private evict(ch: Changes): void {
    while (this.incidents.size > this.cfg.maxIncidents) {
      let victim: IncRec | undefined;
      let n = 0;
      for (const inc of this.incidents.values()) {
        if (inc.i.state === 'closed') {
          victim = inc;
          break;
        }
        if (++n >= EVICT_SCAN) break;
      }
      victim ??= this.incidents.values().next().value;
      if (!victim) break;
      for (const id of victim.held) {
        const rec = this.alerts.get(id);
        if (rec) this.dropAlert(rec, ch);
      }
      for (const id of victim.contrib.keys()) {
        this.home.delete(id);
        this.retire(id);
      }
      this.unlink(victim);
      this.incidents.delete(victim.i.id);
      this.retire(victim.i.id);
      ch.evictedIncidents.push(victim.i.id);
      this.m.incidentsEvicted.inc();
    }
    while (this.alerts.size > this.cfg.maxAlerts) {
      const oldest = this.alerts.values().next();
      if (oldest.done) break;
      this.dropAlert(oldest.value, ch);
    }
    this.m.alertsHeld.set(this.alerts.size);
    this.m.incidentsHeld.set(this.incidents.size);
  }

  // ---- deltas ---------------------------------------------------------------------------------

  private build(ch: Changes): CorrelationDelta {
    const d = emptyDelta();
    for (const id of ch.alerts) {
      const r = this.alerts.get(id);
      if (r) d.alerts.push(structuredClone(r.a));
    }
    for (const id of ch.incidents) {
      const r = this.incidents.get(id);
      if (r) d.incidents.push(structuredClone(r.i));
    }
    d.merged = [...ch.merged];
    d.evicted = { alerts: [...ch.evictedAlerts], incidents: [...ch.evictedIncidents] };
    return d;
  }

  /** Builds the delta of one operation, remembers it for `flush`, and emits it. */
  private finish(ch: Changes): CorrelationDelta {
    const p = this.pending;
    for (const id of ch.alerts) p.alerts.add(id);
    for (const id of ch.incidents) p.incidents.add(id);
    p.merged.push(...ch.merged);
    p.evictedAlerts.push(...ch.evictedAlerts);
    p.evictedIncidents.push(...ch.evictedIncidents);
    const d = this.build(ch);
    if (this.onChange && !isEmpty(d)) this.onChange(d);
    return d;
  }
}

/** Creates a correlator (no I/O; all state in memory, bounded by the configured caps). */
export function createCorrelator(config: CorrelateConfig, deps: CorrelatorDeps = {}): Correlator {
  return new CorrelatorImpl(config, deps);
}
