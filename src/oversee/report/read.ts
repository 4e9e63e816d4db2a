/**
 * Defensive readers of the stored oversight bodies (`src/common/schema/case.ts`): the report reads
 * only the fields it counts and checks each one's type, so a malformed or hostile body is counted
 * as malformed instead of breaking the report. Pure; never throw.
 */
import type { CaseRecord } from '../../store/types.ts';

/** One history step, as the report needs it. */
export interface HistoryStep {
  at: number;
  to: string;
}

/** What the report reads of an `approval-case` body. */
export interface ApprovalCaseView {
  id: string;
  kind: string;
  validFrom: number;
  validUntil: number;
  history: HistoryStep[];
  emergency?: { actedAt: number; notifyBy: number; notifiedAt?: number };
}

/** What the report reads of a `communication` body. */
export interface CommunicationView {
  id: string;
  type: string;
  direction: 'from-commission' | 'to-commission';
  createdAt: number;
  dueAt?: number;
  /** Time of the first response, if any. */
  firstResponseAt?: number;
}

/** What the report reads of a `deletion-certificate` body. */
export interface CertificateView {
  id: string;
  runAt: number;
  counts: Record<string, number>;
}

/** Longest kind or type name taken from a body (longer ones are malformed). */
const MAX_NAME = 64;
/** History steps read per case (a case has a handful; more means a malformed body). */
const MAX_HISTORY = 1000;
/** Response entries read per communication. */
const MAX_RESPONSES = 10_000;
/** Tables named per certificate. */
const MAX_TABLES = 256;

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** The approval-case view of a record, or undefined when its body is malformed. */
export function readApprovalCase(c: CaseRecord): ApprovalCaseView | undefined {
  const b = obj(c.body);
  if (!b || !isName(b.kind) || !isTime(b.validFrom) || !isTime(b.validUntil)) return undefined;
  if (!Array.isArray(b.history) || b.history.length > MAX_HISTORY) return undefined;
  const history: HistoryStep[] = [];
  for (const h of b.history as unknown[]) {
    const s = obj(h);
    if (!s || !isTime(s.at) || !isName(s.to)) return undefined;
    history.push({ at: s.at, to: s.to });
  }
  const view: ApprovalCaseView = {
    id: c.id,
    kind: b.kind,
    validFrom: b.validFrom,
    validUntil: b.validUntil,
    history,
  };
  if (b.emergency !== undefined) {
    const e = obj(b.emergency);
    if (!e || !isTime(e.actedAt) || !isTime(e.notifyBy)) return undefined;
    if (e.notifiedAt !== undefined && !isTime(e.notifiedAt)) return undefined;
    view.emergency = {
      actedAt: e.actedAt,
      notifyBy: e.notifyBy,
      ...(e.notifiedAt !== undefined ? { notifiedAt: e.notifiedAt } : {}),
    };
  }
  return view;
}

/** The communication view of a record, or undefined when its body is malformed. */
export function readCommunication(c: CaseRecord): CommunicationView | undefined {
  const b = obj(c.body);
  if (!b || !isName(b.type) || !isTime(b.createdAt)) return undefined;
  if (b.direction !== 'from-commission' && b.direction !== 'to-commission') return undefined;
  if (b.dueAt !== undefined && !isTime(b.dueAt)) return undefined;
  if (!Array.isArray(b.responses) || b.responses.length > MAX_RESPONSES) return undefined;
  let first: number | undefined;
  for (const r of b.responses as unknown[]) {
    const s = obj(r);
    if (!s || !isTime(s.at)) return undefined;
    if (first === undefined || s.at < first) first = s.at;
  }
  return {
    id: c.id,
    type: b.type,
    direction: b.direction,
    createdAt: b.createdAt,
    ...(b.dueAt !== undefined ? { dueAt: b.dueAt } : {}),
    ...(first !== undefined ? { firstResponseAt: first } : {}),
  };
}

/** The deletion-certificate view of a record, or undefined when its body is malformed. */
export function readCertificate(c: CaseRecord): CertificateView | undefined {
  const b = obj(c.body);
  if (!b || !isTime(b.runAt)) return undefined;
  const counts = obj(b.counts);
  if (!counts) return undefined;
  const entries = Object.entries(counts);
  if (entries.length > MAX_TABLES) return undefined;
  for (const [k, v] of entries) if (!isName(k) || !isCount(v)) return undefined;
  // fromEntries defines own properties: a table named `__proto__` stays a plain key.
  return { id: c.id, runAt: b.runAt, counts: Object.fromEntries(entries) as Record<string, number> };
}

/** The state a case had just before `t`: the target of its last history step before `t`. */
export function stateBefore(history: readonly HistoryStep[], t: number): string | undefined {
  let state: string | undefined;
  let at = -Infinity;
  for (const h of history)
    if (h.at < t && h.at >= at) {
      state = h.to;
      at = h.at;
    }
  return state;
}

/** The time of the first history step to `state`, if any. */
export function firstStepTo(history: readonly HistoryStep[], state: string): number | undefined {
  let t: number | undefined;
  for (const h of history) if (h.to === state && (t === undefined || h.at < t)) t = h.at;
  return t;
}
