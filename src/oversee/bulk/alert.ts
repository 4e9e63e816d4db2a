/**
 * The default handler of a bulk-access alert (R-OVS-4): the commission liaison learns of it as a
 * commission communication (`communication` record, type `notification`, direction
 * `to-commission`, created by `system`), the audit log records `bulk-access.alert`, and — when an
 * event hub is given — the dashboard hears `oversight.bulk-access`. The text names the actor, the
 * counts and the window, never any record content.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../common/clock.ts';
import { silentLogger, type Logger } from '../../common/logging.ts';
import type { CommunicationBody } from '../../common/schema/case.ts';
import type { EventHub } from '../../serve/events.ts';
import type { CaseRecord, Store } from '../../store/types.ts';
import type { AuditInput } from '../audit/index.ts';
import type { BulkAccessAlert } from './monitor.ts';

/** SSE event type of a bulk-access alert. */
export const BULK_ACCESS_EVENT = 'oversight.bulk-access';
/** Audit action of a bulk-access alert. */
export const BULK_ACCESS_ACTION = 'bulk-access.alert';

/** Where the audit entry goes (the audit log's `append`, or the hooks' `onAction`). */
export interface BulkAlertAudit {
  append(input: AuditInput): Promise<unknown>;
}

/** Dependencies of {@link alertCommission}. */
export interface AlertCommissionDeps {
  store: Store;
  audit: BulkAlertAudit;
  events?: EventHub;
  clock: Clock;
  logger?: Logger;
}

/** The alert as a commission communication body. */
export function bulkAlertCommunication(alert: BulkAccessAlert, createdAt: number): CommunicationBody {
  const what = alert.kind === 'records' ? 'selected records received' : 'exports made';
  const minutes = Math.round(alert.windowMs / 60_000);
  return {
    format: 'acd.communication/1',
    type: 'notification',
    direction: 'to-commission',
    subject: `Bulk access by ${alert.actor}`,
    text:
      `${alert.actor} (role ${alert.role}, purpose ${alert.purpose}): ${alert.count} ${what} within ` +
      `${minutes} min (${new Date(alert.windowStart).toISOString()} – ${new Date(alert.at).toISOString()}), ` +
      `above the threshold of ${alert.threshold} per ${minutes} min (R-OVS-4).`,
    createdBy: 'system',
    createdAt,
    responses: [],
  };
}

/**
 * Creates the handler. It returns at once; the store write, the audit entry and the event happen
 * in the background and failures are logged (an alert must never fail the request that caused
 * it). `settled()` resolves when every alert raised so far has been handled (tests, shutdown).
 */
export function alertCommission(deps: AlertCommissionDeps): ((alert: BulkAccessAlert) => void) & {
  settled(): Promise<void>;
} {
  const logger = (deps.logger ?? silentLogger).child({ component: 'bulk-access' });
  let pending: Promise<void> = Promise.resolve();

  async function handle(alert: BulkAccessAlert): Promise<void> {
    const now = deps.clock.now();
    const id = `comm-bulk-${randomUUID()}`;
    const body = bulkAlertCommunication(alert, now);
    const record: CaseRecord = {
      id,
      kind: 'communication',
      state: 'open',
      createdAt: now,
      updatedAt: now,
      body: body as unknown as Record<string, unknown>,
    };
    await deps.store.putCase(record);
    await deps.audit.append({
      actor: 'system',
      role: 'system',
      purpose: 'oversight',
      action: BULK_ACCESS_ACTION,
      objectIds: [id],
      detail: {
        subject: alert.actor,
        role: alert.role,
        purpose: alert.purpose,
        kind: alert.kind,
        count: alert.count,
        threshold: alert.threshold,
        windowMs: alert.windowMs,
      },
    });
    deps.events?.publish(BULK_ACCESS_EVENT, {
      communicationId: id,
      actor: alert.actor,
      role: alert.role,
      kind: alert.kind,
      count: alert.count,
      threshold: alert.threshold,
      windowMs: alert.windowMs,
      at: new Date(alert.at).toISOString(),
    });
    logger.warn({ actor: alert.actor, kind: alert.kind, count: alert.count }, 'bulk access alert');
  }

  const onAlert = (alert: BulkAccessAlert): void => {
    pending = pending
      .then(() => handle(alert))
      .catch((err: unknown) =>
        logger.error({ err: (err as Error).message }, 'bulk access alert not recorded'),
      );
  };
  return Object.assign(onAlert, { settled: () => pending });
}
