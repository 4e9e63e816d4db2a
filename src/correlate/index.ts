/**
 * Public surface of correlation (issue 6): evidence → alerts → incidents, scoring, suppression,
 * the incident lifecycle, and the exports (NDJSON, syslog, webhooks). See README.md.
 */
export {
  resolveCorrelateConfig,
  resolveSyslogConfig,
  resolveWebhookConfig,
  CorrelateConfigSchema,
  ScoreConfigSchema,
  SyslogConfigSchema,
  WebhookConfigSchema,
  type CorrelateConfig,
  type CorrelateConfigInput,
  type ScoreConfig,
  type SyslogConfig,
  type WebhookConfig,
} from './config.ts';
export {
  createCorrelator,
  type Correlator,
  type CorrelatorDeps,
  type CorrelationDelta,
  type CorrelationSnapshot,
  type CorrelatorStats,
} from './correlator.ts';
export { IncidentTransitionError, NotFoundError, SuppressionRuleError, ExportClosedError } from './errors.ts';
export { INCIDENT_TRANSITIONS, canTransition, applyTransition } from './lifecycle.ts';
export { correlateMetrics, exportMetrics, type CorrelateMetrics, type ExportMetrics } from './metrics.ts';
export {
  OperatorIndex,
  type OperatorMatch,
  type OperatorLookup,
  type OperatorIndexOptions,
} from './operators.ts';
export { alertScore, incidentScore, maxSeverity, VICTIM_ROLE, type AlertScoreInput } from './score.ts';
export {
  SuppressionList,
  SuppressionRuleSchema,
  validateSuppressionRule,
  falsePositiveRule,
} from './suppression.ts';
export { evidenceProblem, DETECTOR_NAMES } from './evidence.ts';
export { alertSummary, incidentSummary } from './summary.ts';
export * from './export/index.ts';
