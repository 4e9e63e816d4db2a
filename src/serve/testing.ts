/**
 * Test dependencies of the API server: a memory store, a live view with fixed figures, actions
 * implemented over the store with the incident lifecycle's forward-only rule, a token table with
 * one token per role, and a manual clock. Not used by production code.
 */
import { ManualClock } from '../common/clock.ts';
import { silentLogger } from '../common/logging.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { INCIDENT_STATES } from '../common/schema/alert.ts';
import { MemoryStore } from '../store/memory/store.ts';
import { ROLES, defaultPurposeOf, type Role } from './access.ts';
import { createTokenAuth, type TokenEntry } from './auth.ts';
import { IncidentTransitionError, NotFoundError } from './errors.ts';
import { createEventHub } from './events.ts';
import type { Overview, ServeDeps, ServePlugin } from './types.ts';

/** The token of each role in `testDeps` (`analyst` → `test-token-analyst-0123456789`). */
export function tokenOf(role: Role): string {
  return `test-token-${role}-0123456789`;
}

/** A fixed overview. */
export function sampleOverview(): Overview {
  return {
    watermark: Date.UTC(2026, 0, 1, 0, 10),
    totals: { records: 1200, recordsPerSecond: 40, selected: 1200, dropped: 800, selectionRatio: 0.6 },
    providers: [
      {
        id: 'prov-a',
        name: 'Provider A',
        recordsPerSecond: 40,
        records: 1200,
        exporters: [
          {
            id: 'prov-a/192.0.2.1/0',
            address: '192.0.2.1',
            observationDomainId: 0,
            healthy: true,
            lastSeen: Date.UTC(2026, 0, 1, 0, 10),
            loss: 0,
            templates: 2,
          },
        ],
      },
    ],
    alertsBySeverity: { low: 1, medium: 2, high: 0, critical: 0 },
    incidentsBySeverity: { low: 0, medium: 1, high: 0, critical: 0 },
    incidentsByState: { new: 1, triaged: 0, notified: 0, mitigated: 0, closed: 0 },
    detectors: [{ name: 'scan', evidence: 5, alerts: 2, lastAlertAt: null }],
  };
}

/** Dependencies for tests; `ready` switches `/readyz`. */
export function testDeps(
  opts: { ready?: boolean; dashboardDir?: string; plugins?: readonly ServePlugin[] } = {},
): ServeDeps & {
  clock: ManualClock;
} {
  const store = new MemoryStore();
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 1));
  const entries: TokenEntry[] = ROLES.map((role) => ({
    token: tokenOf(role),
    user: `${role}-1`,
    role,
    defaultPurpose: defaultPurposeOf(role),
    ...(role === 'operator' || role === 'partner' ? { organisation: `${role}-org-1` } : {}),
  }));
  let ruleSeq = 0;
  return {
    store,
    clock,
    live: {
      overview: sampleOverview,
      providers: () => sampleOverview().providers,
      feeds: () => [
        {
          id: 'feed-a',
          providerId: 'prov-a',
          channel: 'transit-foreign-to-foreign',
          approvalId: 'ap-1',
          records: 9,
        },
      ],
      indicators: () => [
        { value: '198.51.100.7', type: 'ipv4', validUntil: null, source: 'demo', confidence: 0.9 },
      ],
      readiness: () => ({ store: opts.ready ?? true, bus: opts.ready ?? true }),
    },
    actions: {
      async transitionIncident(id, to, reason, actor) {
        const d = await store.getIncident(id);
        if (d === undefined) throw new NotFoundError('incident', id);
        const from = d.incident.state;
        if (INCIDENT_STATES.indexOf(to) <= INCIDENT_STATES.indexOf(from))
          throw new IncidentTransitionError(from, to);
        const incident = {
          ...d.incident,
          state: to,
          updatedAt: clock.now(),
          history: [...d.incident.history, { at: clock.now(), from, to, actor: actor.user, reason }],
        };
        await store.upsertIncidents([incident]);
        return incident;
      },
      async markFalsePositive(alertId, reason, actor) {
        const a = await store.getAlert(alertId);
        if (a === undefined) throw new NotFoundError('alert', alertId);
        const rule = {
          id: `fp-${++ruleSeq}`,
          detector: a.detector,
          subject: a.subject,
          reason,
          createdBy: actor.user,
          createdAt: clock.now(),
        };
        await store.putSuppression(rule);
        return rule;
      },
      deleteSuppression: (id) => store.deleteSuppression(id),
    },
    events: createEventHub(64),
    metrics: new MetricsRegistry(),
    auth: createTokenAuth(entries),
    logger: silentLogger,
    ...(opts.dashboardDir !== undefined ? { dashboardDir: opts.dashboardDir } : {}),
    ...(opts.plugins !== undefined ? { plugins: opts.plugins } : {}),
  };
}
