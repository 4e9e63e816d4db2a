/**
 * The incident lifecycle: new → triaged → notified → mitigated → closed. Each state may move to
 * the next one, and any open state may be closed directly (a false positive, a duplicate, an
 * incident that needs no action). Nothing moves backwards and a closed incident stays closed:
 * new activity on the same infrastructure starts a new incident, so the closed one keeps exactly
 * the evidence chain it was closed with.
 */
import type { Incident, IncidentState, IncidentTransition } from '../common/schema/alert.ts';
import { INCIDENT_STATES } from '../common/schema/alert.ts';
import { IncidentTransitionError } from './errors.ts';

/** Allowed target states per state. */
export const INCIDENT_TRANSITIONS: Readonly<Record<IncidentState, readonly IncidentState[]>> = {
  new: ['triaged', 'closed'],
  triaged: ['notified', 'closed'],
  notified: ['mitigated', 'closed'],
  mitigated: ['closed'],
  closed: [],
};

/** True when `from → to` is allowed. */
export function canTransition(from: IncidentState, to: IncidentState): boolean {
  return INCIDENT_TRANSITIONS[from].includes(to);
}

/** Order of a state in the lifecycle (new 0 … closed 4). */
export function stateRank(s: IncidentState): number {
  return INCIDENT_STATES.indexOf(s);
}

/** Longest actor id and reason kept (they come from API bodies). */
const MAX_ACTOR = 200;
const MAX_REASON = 2000;

/**
 * Applies a transition to `incident` in place and records it in `history`. Throws
 * `IncidentTransitionError` when the lifecycle forbids it or the actor or reason is missing.
 */
export function applyTransition(
  incident: Incident,
  to: string,
  actor: string,
  reason: string,
  at: number,
): IncidentTransition {
  const from = incident.state;
  if (!(INCIDENT_STATES as readonly string[]).includes(to))
    throw new IncidentTransitionError(incident.id, from, to, 'unknown state');
  const target = to as IncidentState;
  if (!canTransition(from, target))
    throw new IncidentTransitionError(
      incident.id,
      from,
      to,
      from === 'closed'
        ? 'a closed incident stays closed'
        : `allowed: ${INCIDENT_TRANSITIONS[from].join(', ')}`,
    );
  if (actor.trim().length === 0 || actor.length > MAX_ACTOR)
    throw new IncidentTransitionError(incident.id, from, to, 'an actor (1..200 characters) is required');
  if (reason.trim().length === 0 || reason.length > MAX_REASON)
    throw new IncidentTransitionError(incident.id, from, to, 'a reason (1..2000 characters) is required');
  const t: IncidentTransition = { at, from, to: target, actor, reason };
  incident.state = target;
  incident.history.push(t);
  incident.updatedAt = at;
  return t;
}
