/**
 * Feeding the bulk-access monitor from the API server: the centre chains this hook with the audit
 * hook on `ServeDeps.audit` (both receive every answered authenticated request). Records come
 * from `AuditedRequestInfo.items` (set by routes that hand out selected records: `GET
 * /api/records`); exports are requests to an export or report route.
 */
import type { AuditedRequestInfo } from '../../serve/types.ts';
import type { BulkAccessMonitor } from './monitor.ts';

/** Routes that count as exports: audit exports and reports (route patterns, not URLs). */
export function isExportRoute(route: string): boolean {
  return /\/export(\/|$)/.test(route) || route.startsWith('/api/reports/');
}

/** Options of {@link bulkAccessHook}. */
export interface BulkAccessHookOptions {
  /** Which routes are exports (default {@link isExportRoute}). */
  isExport?: (route: string) => boolean;
}

/** The hook: counts the items and exports of successful requests. Never throws. */
export function bulkAccessHook(
  monitor: BulkAccessMonitor,
  options: BulkAccessHookOptions = {},
): (req: AuditedRequestInfo) => void {
  const isExport = options.isExport ?? isExportRoute;
  return (req) => {
    if (req.statusCode >= 400) return;
    const who = { actor: req.actor, role: req.role, purpose: req.purpose };
    if (req.items !== undefined && req.items > 0) monitor.recordItems(who, req.items);
    if (isExport(req.route)) monitor.recordExport(who);
  };
}
