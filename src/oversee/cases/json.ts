/**
 * The API forms of cases and communications: the stored bodies with every time as ISO 8601 UTC
 * with milliseconds (DESIGN section 7). Pure functions.
 */
import { isoTime } from '../../common/clock.ts';
import type { OverdueItem, ApprovalCase, Communication } from './service.ts';
import type { CaseJson, CommunicationJson } from './schema.ts';

/** An approval case as the API returns it; `overdue` is decided by the caller's clock. */
export function caseJson(c: ApprovalCase, overdue: boolean): CaseJson {
  const b = c.body;
  const { emergency, decision, history, validFrom, validUntil, ...rest } = b;
  return {
    id: c.id,
    recordKind: 'approval-case',
    state: c.state,
    createdAt: isoTime(c.createdAt),
    updatedAt: isoTime(c.updatedAt),
    overdue,
    case: {
      ...rest,
      validFrom: isoTime(validFrom),
      validUntil: isoTime(validUntil),
      ...(emergency
        ? {
            emergency: {
              actedAt: isoTime(emergency.actedAt),
              notifyBy: isoTime(emergency.notifyBy),
              ...(emergency.notifiedAt !== undefined ? { notifiedAt: isoTime(emergency.notifiedAt) } : {}),
            },
          }
        : {}),
      history: history.map((h) => ({ ...h, at: isoTime(h.at) })),
      ...(decision ? { decision: { ...decision, at: isoTime(decision.at) } } : {}),
    },
  };
}

/** A communication as the API returns it. */
export function communicationJson(m: Communication, overdue: boolean): CommunicationJson {
  const { createdAt, dueAt, responses, ...rest } = m.body;
  return {
    id: m.id,
    recordKind: 'communication',
    state: m.state,
    createdAt: isoTime(m.createdAt),
    updatedAt: isoTime(m.updatedAt),
    overdue,
    communication: {
      ...rest,
      createdAt: isoTime(createdAt),
      ...(dueAt !== undefined ? { dueAt: isoTime(dueAt) } : {}),
      responses: responses.map((r) => ({ ...r, at: isoTime(r.at) })),
    },
  };
}

/** An overdue item as the API returns it. */
export function overdueJson(o: OverdueItem): { id: string; what: OverdueItem['what']; dueAt: string } {
  return { id: o.id, what: o.what, dueAt: isoTime(o.dueAt) };
}
