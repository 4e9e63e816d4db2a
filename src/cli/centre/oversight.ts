/**
 * The oversight side of a running centre (issue 8), wired the same way by `acd centre` and `acd
 * demo`: the tamper-evident audit log with its signed checkpoints (keys under `<data>/keys`,
 * checkpoints in `<data>/audit/checkpoints.ndjson` and on the bus), the audit hooks of the API
 * (chained with the bulk-access monitor), the audited centre actions, the retention job with its
 * signed deletion certificates, dual-authorised re-identification, and the API routes of the
 * oversight modules (audit search/verify, retention, transparency report, re-identification) as
 * server plugins.
 */
import { join } from 'node:path';
import type { Clock } from '../../common/clock.ts';
import type { LegalParameterTable } from '../../common/legal/index.ts';
import type { Logger } from '../../common/logging.ts';
import type { MetricsRegistry } from '../../common/metrics.ts';
import {
  auditPlugin,
  createAuditHooks,
  createAuditLog,
  resolveAuditConfig,
  type AuditConfigInput,
  type AuditHooks,
  type AuditLog,
} from '../../oversee/audit/index.ts';
import {
  casesPlugin,
  createCaseService,
  startCaseExpiry,
  type CaseService,
} from '../../oversee/cases/index.ts';
import { demoSigningKey } from '../../common/signing/index.ts';
import { alertCommission, bulkAccessHook, createBulkAccessMonitor } from '../../oversee/bulk/index.ts';
import { KeyStore } from '../../oversee/keys/index.ts';
import { createCentreReidentification, type ReidentifyConfigInput } from '../../oversee/reidentify/index.ts';
import { reportPlugin } from '../../oversee/report/index.ts';
import {
  createRetentionJob,
  retentionPlugin,
  type RetentionConfigInput,
  type RetentionJob,
  type RetentionPurger,
} from '../../oversee/retention/index.ts';
import type { EventHub } from '../../serve/events.ts';
import type { AuditedRequestInfo, ServeActions, ServePlugin } from '../../serve/types.ts';
import type { Store } from '../../store/types.ts';
import type { Bus } from '../../transport/index.ts';

/** Polled live views: audited in aggregate per session and minute (issue 8). */
export const AGGREGATED_ROUTES: readonly string[] = [
  '/api/overview',
  '/api/events',
  '/api/stats/series',
  '/api/stats/top',
  '/api/providers',
];

/** What {@link startOversight} needs. */
export interface OversightDeps {
  store: Store;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  /** The centre's data directory (`keys/`, `audit/`, `retention/`, `reidentification/` live under it). */
  dataDir: string;
  /** The live-event hub (bulk-access events; its replay buffer is purged by retention). */
  events: EventHub;
  metrics: MetricsRegistry;
  /** Legal parameters (retention per channel, deadlines, approval kinds, report fields). */
  legal: LegalParameterTable;
  /** Demo mode: the demo users sign re-identification requests with the demonstration keys. */
  demo?: boolean;
  audit?: AuditConfigInput;
  retention?: RetentionConfigInput;
  reidentification?: ReidentifyConfigInput;
  /** Further export queues and caches that retention must purge (webhook queues, …). */
  purgers?: readonly RetentionPurger[];
}

/** The running oversight services. */
export interface Oversight {
  readonly keys: KeyStore;
  readonly audit: AuditLog;
  readonly hooks: AuditHooks;
  readonly retention: RetentionJob;
  readonly cases: CaseService;
  /** API routes of the oversight modules. */
  readonly plugins: ServePlugin[];
  /** The API server's per-request audit hook. */
  onRequest(req: AuditedRequestInfo): void;
  /** Wraps the centre's actions so each success is audited. */
  actions(a: ServeActions): ServeActions;
  stop(): Promise<void>;
}

/**
 * Starts the audit log (creating the centre's keys on first start) and the oversight services. On
 * failure, whatever already started is stopped again.
 */
export async function startOversight(d: OversightDeps): Promise<Oversight> {
  const keys = new KeyStore(join(d.dataDir, 'keys'), d.clock);
  await keys.init();
  const checkpointFile = join(d.dataDir, 'audit', 'checkpoints.ndjson');
  const audit = createAuditLog(
    { store: d.store, clock: d.clock, keys, checkpointFile, bus: d.bus, logger: d.logger },
    d.audit ?? {},
  );
  await audit.start();
  const stops: (() => Promise<void>)[] = [() => audit.stop()];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const hooks = createAuditHooks(audit, { aggregatedRoutes: AGGREGATED_ROUTES, logger: d.logger });
    const auditAction = (input: Parameters<AuditHooks['onAction']>[0]): void => {
      audit
        .append(input)
        .catch((err: unknown) =>
          d.logger.error({ err: (err as Error).message, action: input.action }, 'audit: action not recorded'),
        );
    };

    // R-OVS-4: bulk access or export above a threshold alerts the commission liaison.
    const onAlert = alertCommission({
      store: d.store,
      audit,
      events: d.events,
      clock: d.clock,
      logger: d.logger,
    });
    stops.push(() => onAlert.settled());
    const monitor = createBulkAccessMonitor({
      clock: d.clock,
      thresholds: resolveAuditConfig(d.audit ?? {}).bulkAccess,
      onAlert,
    });
    const bulk = bulkAccessHook(monitor);

    // R-RET: the retention job deletes what is past its deadline and certifies it.
    const retention = createRetentionJob(
      {
        store: d.store,
        clock: d.clock,
        legal: d.legal,
        signer: { key: () => keys.signingKey('audit') },
        dataDir: d.dataDir,
        purgers: [{ name: 'sse-replay', purge: (t) => d.events.purgeBefore(t) }, ...(d.purgers ?? [])],
        audit: auditAction,
        logger: d.logger,
        metrics: d.metrics,
      },
      d.retention ?? {},
    );
    await retention.start();
    stops.push(() => retention.stop());

    // R-OVS-5, R-OVS-6: approval cases signed with the commission key, revocations to the edges,
    // emergency-measure deadlines, commission communications. The demo's edges trust only the
    // demonstration keys, so the demo signs with the demonstration commission key.
    const cases = createCaseService({
      store: d.store,
      clock: d.clock,
      legal: d.legal,
      keys: {
        commissionKey: () =>
          d.demo === true ? Promise.resolve(demoSigningKey('commission')) : keys.signingKey('commission'),
      },
      publish: (target, m) => d.bus.publishControl(target, m),
      audit: (input) => audit.append(input),
      logger: d.logger,
    });
    const stopExpiry = startCaseExpiry(cases, { logger: d.logger });
    stops.push(() => {
      stopExpiry();
      return Promise.resolve();
    });

    // R-OVS-2: dual-authorised re-identification, answered by the edges over the bus.
    const reid = createCentreReidentification({
      store: d.store,
      clock: d.clock,
      bus: d.bus,
      keys,
      dataDir: d.dataDir,
      audit: (input) => audit.append(input),
      logger: d.logger,
      metrics: d.metrics,
      ...(d.demo !== undefined ? { demo: d.demo } : {}),
      ...(d.reidentification !== undefined ? { config: d.reidentification } : {}),
    });
    await reid.service.start();
    stops.push(() => reid.service.stop());

    return {
      keys,
      audit,
      hooks,
      retention,
      cases,
      plugins: [
        casesPlugin(cases),
        auditPlugin({ log: audit, store: d.store, keys, checkpointFile }),
        retentionPlugin(retention),
        reportPlugin({ legal: d.legal }),
        reid.plugin,
      ],
      onRequest: (req) => {
        hooks.onRequest(req);
        bulk(req);
      },
      actions: (a) => auditedActions(a, hooks),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The centre's actions, each recorded in the audit log once it succeeded (who, why, which object). */
export function auditedActions(a: ServeActions, hooks: AuditHooks): ServeActions {
  return {
    async transitionIncident(id, to, reason, actor) {
      const r = await a.transitionIncident(id, to, reason, actor);
      await hooks.onAction({
        actor: actor.user,
        role: actor.role,
        purpose: actor.purpose,
        action: 'incident.transition',
        objectIds: [id],
        detail: { to, reason },
      });
      return r;
    },
    async markFalsePositive(alertId, reason, actor) {
      const r = await a.markFalsePositive(alertId, reason, actor);
      await hooks.onAction({
        actor: actor.user,
        role: actor.role,
        purpose: actor.purpose,
        action: 'suppression.create',
        objectIds: [alertId, r.id],
        detail: { reason },
      });
      return r;
    },
    async deleteSuppression(id, actor) {
      const r = await a.deleteSuppression(id, actor);
      if (r)
        await hooks.onAction({
          actor: actor.user,
          role: actor.role,
          purpose: actor.purpose,
          action: 'suppression.delete',
          objectIds: [id],
          detail: {},
        });
      return r;
    },
  };
}
