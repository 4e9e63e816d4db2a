/**
 * Public surface of the bulk-access alerts (issue 8, R-OVS-4): the monitor, the API hook that
 * feeds it and the default alert handler that informs the commission.
 */
export {
  createBulkAccessMonitor,
  BUCKETS_PER_WINDOW,
  DEFAULT_MAX_ACTORS,
  type BulkAccessMonitor,
  type BulkAccessMonitorOptions,
  type BulkAccessThresholds,
  type BulkAccessAlert,
  type BulkAccessActor,
  type BulkAccessKind,
} from './monitor.ts';
export { bulkAccessHook, isExportRoute, type BulkAccessHookOptions } from './hook.ts';
export {
  alertCommission,
  bulkAlertCommunication,
  BULK_ACCESS_EVENT,
  BULK_ACCESS_ACTION,
  type AlertCommissionDeps,
  type BulkAlertAudit,
} from './alert.ts';
