/**
 * The oversight side of a running centre (issue 8), wired the same way by `acd centre` and `acd
 * demo`: the tamper-evident audit log with its signed checkpoints (keys under `<data>/keys`,
 * checkpoints in `<data>/audit/checkpoints.ndjson` and on the bus), the audit hooks of the API, and
 * the audited centre actions. The oversight modules' API routes are returned as server plugins.
 */
import { join } from 'node:path';
import type { Clock } from '../../common/clock.ts';
import type { Logger } from '../../common/logging.ts';
import {
  createAuditHooks,
  createAuditLog,
  type AuditConfigInput,
  type AuditHooks,
  type AuditLog,
} from '../../oversee/audit/index.ts';
import { KeyStore } from '../../oversee/keys/index.ts';
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
  /** The centre's data directory (`keys/`, `audit/` live under it). */
  dataDir: string;
  audit?: AuditConfigInput;
}

/** The running oversight services. */
export interface Oversight {
  readonly keys: KeyStore;
  readonly audit: AuditLog;
  readonly hooks: AuditHooks;
  /** API routes of the oversight modules. */
  readonly plugins: ServePlugin[];
  /** The API server's per-request audit hook. */
  onRequest(req: AuditedRequestInfo): void;
  /** Wraps the centre's actions so each success is audited. */
  actions(a: ServeActions): ServeActions;
  stop(): Promise<void>;
}

/** Starts the audit log (creating the centre's keys on first start) and the oversight services. */
export async function startOversight(d: OversightDeps): Promise<Oversight> {
  const keys = new KeyStore(join(d.dataDir, 'keys'), d.clock);
  await keys.init();
  const audit = createAuditLog(
    {
      store: d.store,
      clock: d.clock,
      keys,
      checkpointFile: join(d.dataDir, 'audit', 'checkpoints.ndjson'),
      bus: d.bus,
      logger: d.logger,
    },
    d.audit ?? {},
  );
  await audit.start();
  const hooks = createAuditHooks(audit, { aggregatedRoutes: AGGREGATED_ROUTES, logger: d.logger });
  return {
    keys,
    audit,
    hooks,
    plugins: [],
    onRequest: (req) => hooks.onRequest(req),
    actions: (a) => auditedActions(a, hooks),
    async stop() {
      await audit.stop();
    },
  };
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
