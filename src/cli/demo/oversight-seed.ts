/**
 * The demo's first oversight cases (issue 8), so that the approval queue is not empty when a
 * commission inspector first opens it: a submitted acquisition request for the demo's known C2
 * servers (the indicator feed), and an SDF emergency measure still to be notified. Created once,
 * on a store without approval cases, through the case service (audited like any request).
 */
import type { IndicatorEntry } from '../../common/indicators/index.ts';
import type { CaseActor, CaseService } from '../../oversee/cases/index.ts';
import type { Store } from '../../store/types.ts';

const DAY = 86_400_000;
const ANALYST: CaseActor = { user: 'demo-analyst', role: 'analyst', purpose: 'investigation' };
const SDF: CaseActor = { user: 'demo-supervisor', role: 'supervisor', purpose: 'incident-handling' };

/** Creates the demo's cases when the store has none; returns how many were created. */
export async function seedDemoCases(
  store: Store,
  cases: CaseService,
  indicators: readonly IndicatorEntry[],
  now: number,
): Promise<number> {
  if ((await store.listCases({ limit: 1, kind: 'approval-case' })).items.length > 0) return 0;
  const c2 = indicators
    .filter((i) => i.type === 'ipv4' || i.type === 'cidr')
    .slice(0, 5)
    .map((i) => i.value);
  const acquisition = await cases.create(
    {
      kind: 'acquisition',
      title: 'Traffic with the C2 servers of the indicator feed',
      justification:
        'Domestic hosts beacon to these foreign servers (c2-beacon and ioc-contact incidents); ' +
        'communications with them are needed to find every infected host and warn its operator.',
      channel: 'specified-domestic-to-foreign',
      providers: ['*'],
      targetActs: ['botnet command and control'],
      targets: c2.length > 0 ? c2 : ['the C2 servers of the indicator feed'],
      selectors:
        c2.length > 0
          ? [{ id: 'c2-servers', kind: 'indicator-list', values: c2 }]
          : [{ id: 'c2-servers', kind: 'all-channel-traffic' }],
      validFrom: now,
      validUntil: now + 90 * DAY,
    },
    ANALYST,
  );
  await cases.submit(acquisition.id, ANALYST);
  await cases.create(
    {
      kind: 'sdf-measure',
      title: 'Sinkholing of a reflector used against an operator',
      justification:
        'A reflection DDoS against a critical-infrastructure operator was under way; the reflector ' +
        'was sinkholed at once and the measure must be notified to the commission.',
      targetActs: ['reflection DDoS'],
      targets: ['the reflector of the demo ddos-reflection scenario'],
      selectors: [{ id: 'reflector', kind: 'all-channel-traffic' }],
      validFrom: now - 3_600_000,
      validUntil: now + 7 * DAY,
      emergency: { actedAt: now - 3_600_000 },
    },
    SDF,
  );
  return 2;
}
