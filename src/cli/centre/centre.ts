/**
 * The national centre (`acd centre`, and inside `acd demo`): bus consumer → detection →
 * correlation → store, with the live figures the API and the dashboard read (DESIGN sections 1
 * and 3; issue 7). Wired here because only `cli/` wires components.
 *
 * - Selected records arrive in batches from the bus (de-duplicated by `recordId`, one deduper shared
 *   by `ingest.parallel` subscribers of the same durable consumer). Each batch goes through
 *   detection at once and joins the pending store append; appends are coalesced across batches
 *   (every `ingest.appendIntervalMs`, at `ingest.appendMaxRecords`, or as soon as every subscriber
 *   waits) because DuckDB pays a large fixed cost per append. A batch is acknowledged only after
 *   the append that holds it is durable, so a crash redelivers it (detection may then see it twice:
 *   the de-duplication is per process). The parallel subscribers are what lets several batches
 *   share one append while keeping that order.
 * - Evidence goes to the store and through correlation; alerts and incidents that changed are
 *   upserted and published as live events about once a second (coalesced: one event per alert or
 *   incident per flush, so a DDoS does not flood the dashboard).
 * - Edge statistics (`selection`) and exporter health (`health`) feed the provider view.
 * - Retention is the oversight retention job's (src/oversee/retention, wired by oversight.ts):
 *   it deletes what is past its deadline and certifies the deletion.
 */
import type { Clock } from '../../common/clock.ts';
import type { Logger } from '../../common/logging.ts';
import type { MetricsRegistry } from '../../common/metrics.ts';
import type { Alert, Incident, IncidentState, SuppressionRule } from '../../common/schema/alert.ts';
import type { Evidence, Severity } from '../../common/schema/evidence.ts';
import type { DetectorName } from '../../common/schema/legal.ts';
import type { SelectedRecord } from '../../common/schema/selected.ts';
import type { IndicatorEntry } from '../../common/indicators/index.ts';
import type { OperatorsFile } from '../../common/operators/index.ts';
import { NotFoundError } from '../../serve/errors.ts';
import { createDetectionEngine, type DetectConfig, type DetectionEngine } from '../../detect/index.ts';
import {
  applyTransition,
  createCorrelator,
  type CorrelateConfig,
  type Correlator,
} from '../../correlate/index.ts';
import type { Store } from '../../store/types.ts';
import {
  RecordDeduper,
  type Bus,
  type DeliveredBatch,
  type JsonValue,
  type StatsMessage,
  type Subscription,
} from '../../transport/index.ts';
import type {
  ExporterHealth,
  FeedView,
  IndicatorView,
  LiveView,
  Overview,
  ProviderView,
  ServeActions,
} from '../../serve/types.ts';
import type { Actor } from '../../serve/auth.ts';
import type { EventHub } from '../../serve/events.ts';
import { alertJson, incidentItemJson } from '../../serve/json.ts';

/** What the centre needs. */
export interface CentreDeps {
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
  bus: Bus;
  store: Store;
  /** Live events for the API (`/api/events`). */
  events?: EventHub;
}

/** How the centre runs. */
export interface CentreOptions {
  detect: DetectConfig;
  correlate: CorrelateConfig;
  operators?: OperatorsFile;
  indicators?: readonly IndicatorEntry[];
  /** Provider names for the views (id → name). */
  providerNames?: Record<string, string>;
  /** How long evidence is kept (ms after its window end). */
  evidenceRetentionMs: number;
  /** Bus consumer names (durable). */
  consumer: string;
  /** How records reach the store (defaults: {@link DEFAULT_INGEST}). */
  ingest?: Partial<IngestOptions>;
}

/** Coalescing of record appends across bus batches. */
export interface IngestOptions {
  /** Subscribers of the durable data consumer: batches in flight that can share one append. */
  parallel: number;
  /** Append at the latest this long after the first pending record (ms). */
  appendIntervalMs: number;
  /** Append as soon as this many records are pending. */
  appendMaxRecords: number;
}

/** Defaults: about half a second of latency to the store, appends of thousands of rows. */
export const DEFAULT_INGEST: IngestOptions = {
  parallel: 32,
  appendIntervalMs: 500,
  appendMaxRecords: 20_000,
};

/** The running centre. */
export interface Centre {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly live: LiveView;
  readonly actions: ServeActions;
  /** The overview now (the same as `live.overview()`, synchronously). */
  overview(): Overview;
  /** Alerts and incidents as correlation holds them now. */
  snapshot(): { alerts: Alert[]; incidents: Incident[] };
  stats(): CentreStats;
  /** Processes what is pending now (tests, end of an evaluation run). */
  flush(final?: boolean): Promise<void>;
}

/** Counters for status lines. */
export interface CentreStats {
  records: number;
  batches: number;
  duplicates: number;
  /** Store appends of records (each holds one or more bus batches). */
  appends: number;
  /** Records appended to the store. */
  stored: number;
  evidence: number;
  alerts: number;
  incidents: number;
  watermark: number | null;
  storeErrors: number;
  /** Records older than the detection watermark (dropped by the engine; see detect.engine.allowedLatenessMs). */
  late: number;
}

interface ProviderState {
  id: string;
  records: number;
  /** Records per second over the last interval. */
  rate: number;
  lastCount: number;
  selected: number;
  dropped: number;
  exporters: ExporterHealth[];
  feeds: Map<string, { channel: FeedView['channel']; records: number }>;
}

const FLUSH_MS = 1000;

function zeroSeverities(): Record<Severity, number> {
  return { low: 0, medium: 0, high: 0, critical: 0 };
}

function jsonNumber(v: JsonValue | undefined): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** Creates the centre. No I/O until `start()`. */
export function createCentre(deps: CentreDeps, o: CentreOptions): Centre {
  const { clock, logger, bus, store } = deps;
  const providers = new Map<string, ProviderState>();
  const detectorCounts = new Map<
    DetectorName,
    { evidence: number; alerts: number; lastAlertAt: number | null }
  >();
  const alertSeverity = new Map<string, Severity>();
  const incidentInfo = new Map<string, { severity: Severity; state: IncidentState }>();
  const counters = {
    records: 0,
    batches: 0,
    duplicates: 0,
    appends: 0,
    stored: 0,
    evidence: 0,
    storeErrors: 0,
  };
  const ingest: IngestOptions = { ...DEFAULT_INGEST, ...o.ingest };
  let pendingEvidence: Evidence[] = [];
  const dirtyAlerts = new Map<string, Alert>();
  const dirtyIncidents = new Map<string, Incident>();
  /** Incidents absorbed into others since the last flush: deleted from the store. */
  let mergedIncidents: string[] = [];
  let subs: Subscription[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  let lastRateAt = clock.monotonic();
  let running = false;

  const correlator: Correlator = createCorrelator(o.correlate, {
    clock,
    logger,
    metrics: deps.metrics,
    ...(o.operators ? { operators: o.operators } : {}),
  });
  const onEvidence = (e: Evidence): void => {
    counters.evidence++;
    pendingEvidence.push(e);
    const d = detectorCounts.get(e.detector) ?? { evidence: 0, alerts: 0, lastAlertAt: null };
    d.evidence++;
    detectorCounts.set(e.detector, d);
    correlator.push(e);
  };
  const engine: DetectionEngine = createDetectionEngine(o.detect, {
    clock,
    emit: onEvidence,
    ...(o.indicators ? { indicators: o.indicators } : {}),
  });

  function provider(id: string): ProviderState {
    let p = providers.get(id);
    if (!p) {
      p = { id, records: 0, rate: 0, lastCount: 0, selected: 0, dropped: 0, exporters: [], feeds: new Map() };
      providers.set(id, p);
    }
    return p;
  }

  function takeRecords(providerId: string, records: readonly SelectedRecord[]): void {
    const p = provider(providerId);
    p.records += records.length;
    counters.records += records.length;
    for (const r of records) {
      engine.pushSelected(r);
      const f = p.feeds.get(r.provenance.feedId);
      if (f) f.records++;
      else p.feeds.set(r.provenance.feedId, { channel: r.provenance.channel, records: 1 });
    }
  }

  function onStats(m: StatsMessage): Promise<void> {
    const p = provider(m.providerId);
    if (m.kind === 'selection') {
      p.selected += jsonNumber(m.body.selected);
      const dropped = m.body.dropped;
      if (dropped && typeof dropped === 'object' && !Array.isArray(dropped))
        for (const v of Object.values(dropped)) p.dropped += jsonNumber(v);
    } else if (m.kind === 'health') {
      const list = m.body.exporters;
      if (Array.isArray(list)) {
        const now = clock.now();
        p.exporters = list.flatMap((x) => {
          if (!x || typeof x !== 'object' || Array.isArray(x)) return [];
          const address = typeof x.exporter === 'string' ? x.exporter : '';
          const domain = jsonNumber(x.observationDomainId);
          const lastSeen = jsonNumber(x.lastSeen);
          return [
            {
              id: `${m.providerId}/${address}/${domain}`,
              address,
              observationDomainId: domain,
              healthy: x.silent !== true && lastSeen > 0 && now - lastSeen < 60_000,
              lastSeen: lastSeen > 0 ? lastSeen : null,
              loss: jsonNumber(x.lost),
              templates: jsonNumber(x.templates),
            },
          ];
        });
      }
    }
    return Promise.resolve();
  }

  /** Records waiting for the next append, and the waiters of the batches they came in. */
  let appendRecords: SelectedRecord[] = [];
  let appendWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  let appendTimer: NodeJS.Timeout | undefined;
  let appending: Promise<void> = Promise.resolve();

  /** Starts the pending append (serialised behind the one running). */
  function appendNow(): void {
    clearTimeout(appendTimer);
    appendTimer = undefined;
    if (appendWaiters.length === 0) return;
    const records = appendRecords;
    const waiters = appendWaiters;
    appendRecords = [];
    appendWaiters = [];
    appending = appending.then(async () => {
      try {
        if (records.length > 0) await store.appendRecords(records);
        counters.appends++;
        counters.stored += records.length;
        for (const w of waiters) w.resolve();
      } catch (err) {
        counters.storeErrors++;
        logger.error(
          { err: (err as Error).message, records: records.length },
          'centre: record append failed',
        );
        // The batches are not acknowledged: the bus redelivers them.
        for (const w of waiters) w.reject(err);
      }
    });
  }

  /** Handles one bus batch: detection now, acknowledgement once its records are stored. */
  function onBatch(b: DeliveredBatch): Promise<void> {
    counters.batches++;
    counters.duplicates += b.duplicatesDropped;
    if (b.records.length === 0) return Promise.resolve();
    takeRecords(b.providerId, b.records);
    const done = new Promise<void>((resolve, reject) => appendWaiters.push({ resolve, reject }));
    for (const r of b.records) appendRecords.push(r);
    if (appendRecords.length >= ingest.appendMaxRecords || appendWaiters.length >= ingest.parallel)
      appendNow();
    else appendTimer ??= setTimeout(appendNow, ingest.appendIntervalMs);
    return done;
  }

  async function flushOnce(final: boolean): Promise<void> {
    if (final) engine.flush();
    else engine.advance();
    const change = correlator.flush();
    for (const a of change.alerts) {
      if (!alertSeverity.has(a.id)) {
        const d = detectorCounts.get(a.detector) ?? { evidence: 0, alerts: 0, lastAlertAt: null };
        d.alerts++;
        d.lastAlertAt = clock.now();
        detectorCounts.set(a.detector, d);
      }
      alertSeverity.set(a.id, a.severity);
      dirtyAlerts.set(a.id, a);
    }
    for (const i of change.incidents) {
      incidentInfo.set(i.id, { severity: i.severity, state: i.state });
      dirtyIncidents.set(i.id, i);
    }
    for (const m of change.merged) {
      incidentInfo.delete(m.id);
      dirtyIncidents.delete(m.id);
      mergedIncidents.push(m.id);
    }
    const now = clock.now();
    const mono = clock.monotonic();
    const dt = (mono - lastRateAt) / 1000;
    if (dt > 0) {
      for (const p of providers.values()) {
        p.rate = (p.records - p.lastCount) / dt;
        p.lastCount = p.records;
      }
      lastRateAt = mono;
    }
    const evidence = pendingEvidence;
    pendingEvidence = [];
    const alerts = [...dirtyAlerts.values()];
    dirtyAlerts.clear();
    const incidents = [...dirtyIncidents.values()];
    dirtyIncidents.clear();
    try {
      if (evidence.length > 0) await store.appendEvidence(evidence, now + o.evidenceRetentionMs);
      if (alerts.length > 0) await store.upsertAlerts(alerts);
      if (incidents.length > 0) await store.upsertIncidents(incidents);
      if (mergedIncidents.length > 0) {
        const ids = mergedIncidents;
        mergedIncidents = [];
        await store.deleteIncidents(ids);
      }
    } catch (err) {
      counters.storeErrors++;
      logger.error({ err: (err as Error).message }, 'centre: store write failed');
    }
    const ev = deps.events;
    if (ev) {
      for (const a of alerts) ev.publish('alert', alertJson(a));
      for (const i of incidents) ev.publish('incident', incidentItemJson(i));
    }
  }

  function flush(final = false): Promise<void> {
    flushing = flushing.then(() => flushOnce(final));
    return flushing;
  }

  function totals(): Overview['totals'] {
    let records = 0;
    let rate = 0;
    let selected = 0;
    let dropped = 0;
    for (const p of providers.values()) {
      records += p.records;
      rate += p.rate;
      selected += p.selected;
      dropped += p.dropped;
    }
    return {
      records,
      recordsPerSecond: rate,
      selected,
      dropped,
      selectionRatio: selected + dropped > 0 ? selected / (selected + dropped) : 0,
    };
  }

  function providerViews(): ProviderView[] {
    return [...providers.values()]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((p) => ({
        id: p.id,
        name: o.providerNames?.[p.id] ?? p.id,
        recordsPerSecond: p.rate,
        records: p.records,
        exporters: p.exporters,
      }));
  }

  function watermark(): number | null {
    const w = engine.stats().watermark;
    return typeof w === 'number' && Number.isFinite(w) && w > 0 ? w : null;
  }

  function overview(): Overview {
    {
      const alertsBySeverity = zeroSeverities();
      for (const s of alertSeverity.values()) alertsBySeverity[s]++;
      const incidentsBySeverity = zeroSeverities();
      const incidentsByState = { new: 0, triaged: 0, notified: 0, mitigated: 0, closed: 0 };
      for (const i of incidentInfo.values()) {
        incidentsBySeverity[i.severity]++;
        incidentsByState[i.state]++;
      }
      return {
        watermark: watermark(),
        totals: totals(),
        providers: providerViews(),
        alertsBySeverity,
        incidentsBySeverity,
        incidentsByState,
        detectors: [...detectorCounts.entries()]
          .sort((a, b) => a[0].localeCompare(b[0]))
          .map(([name, d]) => ({ name, ...d })),
      };
    }
  }

  const live: LiveView = {
    overview,
    providers: providerViews,
    feeds(): FeedView[] {
      const out: FeedView[] = [];
      for (const p of providers.values())
        for (const [id, f] of p.feeds)
          out.push({ id, providerId: p.id, channel: f.channel, approvalId: '', records: f.records });
      return out;
    },
    indicators(): IndicatorView[] {
      return (o.indicators ?? []).map((i) => ({
        value: i.value,
        type: i.type,
        validUntil: i.validUntil ? Date.parse(i.validUntil) : null,
        source: i.source,
        confidence: i.confidence,
      }));
    },
    readiness: () => ({ store: running, bus: running }),
  };

  const actions: ServeActions = {
    async transitionIncident(id: string, to: IncidentState, reason: string, actor: Actor): Promise<Incident> {
      let inc: Incident;
      if (correlator.incident(id)) inc = correlator.transition(id, to, actor.user, reason);
      else {
        // Not held in memory (evicted, or from before a restart): the store's copy moves.
        const stored = await store.getIncident(id);
        if (!stored) throw new NotFoundError('incident', id);
        inc = stored.incident;
        applyTransition(inc, to, actor.user, reason, clock.now());
      }
      incidentInfo.set(inc.id, { severity: inc.severity, state: inc.state });
      await store.upsertIncidents([inc]);
      deps.events?.publish('incident', incidentItemJson(inc));
      return inc;
    },
    async markFalsePositive(alertId: string, reason: string, actor: Actor): Promise<SuppressionRule> {
      let rule: SuppressionRule;
      if (correlator.alert(alertId)) rule = correlator.markFalsePositive(alertId, actor.user, reason).rule;
      else {
        // An alert from before a restart: only the store holds it.
        const alert = await store.getAlert(alertId);
        if (!alert) throw new NotFoundError('alert', alertId);
        rule = {
          id: `fp-${alert.id}`,
          detector: alert.detector,
          subject: alert.subject,
          reason,
          createdBy: actor.user,
          createdAt: clock.now(),
        };
        correlator.addSuppression(rule);
      }
      await store.putSuppression(rule);
      logger.info(
        { rule: rule.id, actor: actor.user, detector: rule.detector },
        'centre: suppression rule created',
      );
      return rule;
    },
    async deleteSuppression(id: string, actor: Actor): Promise<boolean> {
      correlator.removeSuppression(id);
      const ok = await store.deleteSuppression(id);
      if (ok) logger.info({ rule: id, actor: actor.user }, 'centre: suppression rule deleted');
      return ok;
    },
  };

  return {
    live,
    actions,
    overview,
    async start() {
      for (const rule of await store.listSuppressions()) correlator.addSuppression(rule);
      if (o.operators) await store.putOperators(o.operators);
      const dedup = new RecordDeduper();
      for (let i = 0; i < Math.max(1, ingest.parallel); i++)
        subs.push(await bus.subscribe(o.consumer, onBatch, { dedup }));
      subs.push(await bus.subscribeStats(`${o.consumer}-stats`, onStats));
      running = true;
      timer = setInterval(() => void flush(false), FLUSH_MS);
    },
    async stop() {
      running = false;
      clearInterval(timer);
      // Subscribers finish their current batch, which waits for its append: append at once.
      const stopping = Promise.allSettled(subs.map((s) => s.stop()));
      appendNow();
      await stopping;
      appendNow();
      await appending;
      subs = [];
      await flush(true);
    },
    snapshot: () => correlator.snapshot(),
    flush,
    stats: () => ({
      ...counters,
      alerts: alertSeverity.size,
      incidents: incidentInfo.size,
      watermark: watermark(),
      late: engine.stats().late,
    }),
  };
}
