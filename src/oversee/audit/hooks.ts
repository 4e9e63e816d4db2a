/**
 * Wire-up hooks for the centre (the lead wires them into src/serve and src/cli/centre): one call
 * per API request and one per action, so that every access, query, export, approval, state change,
 * deletion and configuration change lands in the audit log, and high-frequency reads of live
 * views are counted per (session, minute) instead of logged one by one.
 */
import type { Logger } from '../../common/logging.ts';
import { silentLogger } from '../../common/logging.ts';
import type { AuditInput, AuditLog } from './log.ts';

/** One API request as the centre saw it (after authentication and routing). */
export interface AuditedRequest {
  /** Session or token id. */
  session: string;
  actor: string;
  role: string;
  /** `X-ACD-Purpose`. */
  purpose: string;
  method: string;
  /** The route pattern (`/api/v1/incidents/:id`), not the URL: no addresses or query values. */
  route: string;
  statusCode: number;
  /** Ids of the objects read or changed (route parameters such as the incident id). */
  objectIds?: readonly string[];
}

/** The hooks. */
export interface AuditHooks {
  /** Call once per answered request (e.g. from a fastify `onResponse` hook). Never throws. */
  onRequest(req: AuditedRequest): void;
  /** Call for each action (approval, state change, deletion, config change); resolves once stored. */
  onAction(input: AuditInput): Promise<void>;
}

/** Options of {@link createAuditHooks}. */
export interface AuditHooksOptions {
  /**
   * `GET` routes polled by live views (status, series, live counters): counted per session and
   * minute. Default: none (every request is an entry).
   */
  aggregatedRoutes?: readonly string[];
  logger?: Logger;
}

/** Creates the hooks over a started audit log. */
export function createAuditHooks(log: AuditLog, options: AuditHooksOptions = {}): AuditHooks {
  const aggregated = new Set(options.aggregatedRoutes ?? []);
  const logger = options.logger ?? silentLogger;
  return {
    onRequest(req) {
      if (req.method === 'GET' && aggregated.has(req.route) && req.statusCode < 400) {
        log.recordRead(
          { id: req.session, actor: req.actor, role: req.role, purpose: req.purpose },
          req.route,
        );
        return;
      }
      log
        .append({
          actor: req.actor,
          role: req.role,
          purpose: req.purpose,
          action: `${req.method} ${req.route}`,
          objectIds: req.objectIds ?? [],
          detail: { session: req.session, status: req.statusCode },
        })
        .catch((err: unknown) =>
          logger.error({ err: (err as Error).message }, 'audit: request not recorded'),
        );
    },
    async onAction(input) {
      await log.append(input);
    },
  };
}
