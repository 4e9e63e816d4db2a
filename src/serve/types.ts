/**
 * What the API server needs from the centre (`ServeDeps`). The centre (src/cli wiring) implements
 * `LiveView` and `ServeActions` from its in-memory state and the store; the server only reads
 * through these interfaces and turns times into ISO 8601 text. Times here are epoch milliseconds.
 */
import type { Clock } from '../common/clock.ts';
import type { Logger } from '../common/logging.ts';
import type { MetricsRegistry } from '../common/metrics.ts';
import type { Incident, IncidentState, SuppressionRule } from '../common/schema/alert.ts';
import type { Severity } from '../common/schema/evidence.ts';
import type { DetectorName, LegalChannel } from '../common/schema/legal.ts';
import type { Store } from '../store/types.ts';
import type { Actor, TokenAuth, UserDirectory } from './auth.ts';
import type { EventHub } from './events.ts';
import type { ServeApp } from './server.ts';

/** Health of one exporter as its edge reports it over the bus. */
export interface ExporterHealth {
  id: string;
  /** Exporter address (the exporter's own, not a subscriber's). */
  address: string;
  observationDomainId: number;
  healthy: boolean;
  /** Last datagram (epoch ms), null when never seen. */
  lastSeen: number | null;
  /** Records lost according to the exporter's sequence numbers. */
  loss: number;
  /** Templates held for this exporter. */
  templates: number;
}

/** A provider (its edge) with its exporters. */
export interface ProviderView {
  id: string;
  name: string;
  recordsPerSecond: number;
  /** Selected records received from this provider since start. */
  records: number;
  exporters: ExporterHealth[];
}

/** Totals over every provider. */
export interface OverviewTotals {
  /** Selected records received by the centre. */
  records: number;
  recordsPerSecond: number;
  /** Records the edges selected and dropped (edge statistics). */
  selected: number;
  dropped: number;
  /** selected / (selected + dropped), 0 when nothing was seen. */
  selectionRatio: number;
}

/** Counters of one detector. */
export interface DetectorView {
  name: DetectorName;
  evidence: number;
  alerts: number;
  lastAlertAt: number | null;
}

/** Counts per severity. */
export type BySeverity = Record<Severity, number>;

/** Counts per incident state. */
export type ByIncidentState = Record<IncidentState, number>;

/** The situation picture (`GET /api/overview`); `now` is added by the server from its clock. */
export interface Overview {
  /** Detection watermark (event time, epoch ms), null before the first record. */
  watermark: number | null;
  totals: OverviewTotals;
  providers: ProviderView[];
  alertsBySeverity: BySeverity;
  incidentsBySeverity: BySeverity;
  incidentsByState: ByIncidentState;
  detectors: DetectorView[];
}

/** A feed (an edge's legal channel for one approval). */
export interface FeedView {
  id: string;
  providerId: string;
  channel: LegalChannel;
  approvalId: string;
  records: number;
}

/** An indicator (threat intelligence value) the centre matches against. */
export interface IndicatorView {
  value: string;
  type: string;
  /** Epoch ms, null for no expiry. */
  validUntil: number | null;
  source: string;
  /** 0..1. */
  confidence: number;
}

/** Readiness of the centre's dependencies (`/readyz`). */
export interface Readiness {
  store: boolean;
  bus: boolean;
}

/** Live figures the centre keeps in memory. Each call returns a fresh snapshot. */
export interface LiveView {
  overview(): Overview | Promise<Overview>;
  providers(): ProviderView[] | Promise<ProviderView[]>;
  feeds(): FeedView[] | Promise<FeedView[]>;
  indicators(): IndicatorView[] | Promise<IndicatorView[]>;
  readiness(): Readiness | Promise<Readiness>;
}

/**
 * Changes the API can make. Implementations audit them (issue 8) and throw typed errors:
 * `NotFoundError` (404), `IncidentTransitionError` (code `ERR_INCIDENT_TRANSITION`, 409),
 * `ValidationError` (400).
 */
export interface ServeActions {
  /** Moves an incident to `to`; returns the updated incident. */
  transitionIncident(id: string, to: IncidentState, reason: string, actor: Actor): Promise<Incident>;
  /** Marks an alert a false positive: creates (and stores) a suppression rule and returns it. */
  markFalsePositive(alertId: string, reason: string, actor: Actor): Promise<SuppressionRule>;
  /** Deletes a suppression rule; false when there was none with this id. */
  deleteSuppression(id: string, actor: Actor): Promise<boolean>;
}

/** One answered request as the audit hook sees it. */
export interface AuditedRequestInfo {
  session: string;
  actor: string;
  role: string;
  purpose: string;
  method: string;
  route: string;
  statusCode: number;
  objectIds: string[];
  /**
   * Selected records the response handed out (set by routes that return them, e.g. `GET
   * /api/records`); absent elsewhere. Feeds the bulk-access monitor (R-OVS-4).
   */
  items?: number;
}

/**
 * Extra routes registered inside the API scope after the core routes (the oversight modules:
 * approval cases, retention, reports, re-identification, audit views). Each declares its
 * routes' access like the core routes do.
 */
export type ServePlugin = (api: ServeApp, deps: ServeDeps) => void;

/** Everything `createServer` uses. */
export interface ServeDeps {
  store: Store;
  live: LiveView;
  actions: ServeActions;
  events: EventHub;
  /** The process-wide registry: `/metrics` renders all of it. */
  metrics: MetricsRegistry;
  auth: TokenAuth;
  /**
   * The user registry (src/oversee/access): password login for dashboard sessions and the user
   * list. Without it, login answers 503 and only bearer tokens work.
   */
  users?: UserDirectory;
  /**
   * Called once per answered authenticated request (the audit log's hook, src/oversee/audit):
   * route pattern, actor, purpose, status and route parameters — never the URL or query.
   */
  audit?: (req: AuditedRequestInfo) => void;
  /** Extra route modules (see {@link ServePlugin}). */
  plugins?: readonly ServePlugin[];
  clock: Clock;
  logger: Logger;
  /** Built dashboard (index.html, assets/); when absent a small page says it is not built. */
  dashboardDir?: string;
}
