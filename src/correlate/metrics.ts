import type { Counter, Gauge, MetricsRegistry } from '../common/metrics.ts';

/** Counters and gauges of the correlator. */
export interface CorrelateMetrics {
  /** Evidence accepted. */
  readonly evidence: Counter;
  /** Evidence refused as malformed, labelled by reason (the caller gets an empty delta). */
  readonly evidenceRejected: Counter;
  /** Evidence below `minAlertSeverity` that opened no alert (kept only in the evidence store). */
  readonly evidenceBelowAlert: Counter;
  /** Alerts created. */
  readonly alertsCreated: Counter;
  /** Evidence folded into an existing alert. */
  readonly alertsUpdated: Counter;
  /** Alerts that became suppressed (a rule matched). */
  readonly alertsSuppressed: Counter;
  /** Alerts evicted from memory (cap reached). */
  readonly alertsEvicted: Counter;
  /** Incidents created. */
  readonly incidentsCreated: Counter;
  /** Incidents merged into another one (shared infrastructure found later). */
  readonly incidentsMerged: Counter;
  /** Incidents evicted from memory with their alerts (cap reached). */
  readonly incidentsEvicted: Counter;
  /** Linked alerts that started a new incident because the linked one was full. */
  readonly incidentsFull: Counter;
  /** Lifecycle transitions, labelled by target state. */
  readonly transitions: Counter;
  /** Alerts held now. */
  readonly alertsHeld: Gauge;
  /** Incidents held now. */
  readonly incidentsHeld: Gauge;
}

/** Registers (or returns) the correlator metrics in `registry`. */
export function correlateMetrics(registry: MetricsRegistry): CorrelateMetrics {
  const c = (name: string, help: string): Counter => registry.counter(`correlate_${name}`, help);
  return {
    evidence: c('evidence', 'Evidence accepted by correlation.'),
    evidenceRejected: c('evidence_rejected', 'Malformed evidence refused, by reason.'),
    evidenceBelowAlert: c(
      'evidence_below_alert',
      'Evidence below correlate.minAlertSeverity that opened no alert (kept in the evidence store).',
    ),
    alertsCreated: c('alerts_created', 'Alerts created.'),
    alertsUpdated: c('alerts_updated', 'Evidence folded into an existing alert.'),
    alertsSuppressed: c('alerts_suppressed', 'Alerts marked suppressed by a rule.'),
    alertsEvicted: c('alerts_evicted', 'Alerts evicted because the alert cap was reached.'),
    incidentsCreated: c('incidents_created', 'Incidents created.'),
    incidentsMerged: c('incidents_merged', 'Incidents merged into another incident.'),
    incidentsEvicted: c(
      'incidents_evicted',
      'Incidents evicted (with their alerts) because the cap was reached.',
    ),
    incidentsFull: c(
      'incidents_full',
      'Linked alerts that started a new incident because the linked one was full.',
    ),
    transitions: c('incident_transitions', 'Incident lifecycle transitions, by target state.'),
    alertsHeld: registry.gauge('correlate_alerts_held', 'Alerts held in memory.'),
    incidentsHeld: registry.gauge('correlate_incidents_held', 'Incidents held in memory.'),
  };
}

/** Counters of the export sinks (syslog, webhooks), labelled by sink. */
export interface ExportMetrics {
  /** Messages handed to the transport (syslog) or acknowledged with 2xx (webhook). */
  readonly sent: Counter;
  /** Messages dropped: queue full, attempts exhausted, refused by the receiver. */
  readonly dropped: Counter;
  /** Retries after a failure (webhook) or reconnects (syslog TCP). */
  readonly retries: Counter;
  /** Transport errors (connection refused, reset, timeout, 5xx). */
  readonly errors: Counter;
  /** Messages whose text was truncated to the size limit (syslog). */
  readonly truncated: Counter;
}

/** Registers (or returns) counters of one export sink kind (`syslog`, `webhook`) and instance name. */
export function exportMetrics(registry: MetricsRegistry, kind: string, name: string): ExportMetrics {
  const c = (metric: string, help: string): Counter =>
    registry.counter(`export_${metric}`, help).labels({ kind, sink: name });
  return {
    sent: c('sent', 'Messages delivered to the transport or acknowledged by the receiver.'),
    dropped: c('dropped', 'Messages dropped (queue full, attempts exhausted, refused).'),
    retries: c('retries', 'Retries and reconnects.'),
    errors: c('errors', 'Transport errors.'),
    truncated: c('truncated', 'Messages truncated to the size limit.'),
  };
}
