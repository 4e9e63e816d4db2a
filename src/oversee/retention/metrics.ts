import type { Counter, MetricsRegistry } from '../../common/metrics.ts';

/** Counters of the retention job. */
export interface RetentionMetrics {
  /** Runs finished (whether or not they deleted anything). */
  readonly runs: Counter;
  /** Runs that failed (nothing certified; the next run retries). */
  readonly failures: Counter;
  /** Rows and items deleted, over every table, queue and cache. */
  readonly deleted: Counter;
  /** Deletion certificates issued. */
  readonly certificates: Counter;
}

/** Registers (or returns) the retention counters in `registry`. */
export function retentionMetrics(registry: MetricsRegistry): RetentionMetrics {
  return {
    runs: registry.counter('retention_runs', 'Retention runs finished.'),
    failures: registry.counter('retention_failures', 'Retention runs that failed.'),
    deleted: registry.counter(
      'retention_deleted',
      'Rows and items deleted by retention (tables, export queues, caches).',
    ),
    certificates: registry.counter('retention_certificates', 'Signed deletion certificates issued.'),
  };
}
