import type { Counter, MetricsRegistry } from '../common/metrics.ts';

/** Counters of a store (either implementation), kept as fields so the write path increments objects. */
export interface StoreMetrics {
  /** Selected records appended. */
  readonly recordsAppended: Counter;
  /** Evidence items appended. */
  readonly evidenceAppended: Counter;
  /** Alerts and incidents written (upserts). */
  readonly alertsUpserted: Counter;
  readonly incidentsUpserted: Counter;
  /** Audit entries appended. */
  readonly auditAppended: Counter;
  /** Write batches (transactions). */
  readonly writes: Counter;
  /** Read queries answered. */
  readonly queries: Counter;
  /** Queries or writes that failed. */
  readonly errors: Counter;
  /** Partitions dropped by retention, and the rows they held. */
  readonly partitionsDropped: Counter;
  readonly rowsDropped: Counter;
  /** Records or evidence evicted by the memory store's cap. */
  readonly evicted: Counter;
}

/** Registers (or returns) the store counters in `registry`, labelled by store kind. */
export function storeMetrics(registry: MetricsRegistry, kind: string): StoreMetrics {
  const c = (name: string, help: string): Counter =>
    registry.counter(`store_${name}`, help).labels({ store: kind });
  return {
    recordsAppended: c('records_appended', 'Selected records appended to the store.'),
    evidenceAppended: c('evidence_appended', 'Evidence items appended to the store.'),
    alertsUpserted: c('alerts_upserted', 'Alerts inserted or replaced.'),
    incidentsUpserted: c('incidents_upserted', 'Incidents inserted or replaced.'),
    auditAppended: c('audit_appended', 'Audit entries appended.'),
    writes: c('writes', 'Write batches committed.'),
    queries: c('queries', 'Read queries answered.'),
    errors: c('errors', 'Store queries or writes that failed.'),
    partitionsDropped: c('partitions_dropped', 'Retention-day partitions dropped by retention.'),
    rowsDropped: c('rows_dropped', 'Rows deleted by retention (dropped partitions and derived tables).'),
    evicted: c('evicted', 'Rows evicted by the memory store cap (memory store only).'),
  };
}
