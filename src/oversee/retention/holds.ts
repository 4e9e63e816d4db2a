/**
 * Retention holds (R-RET-1: "extension needs an approval record"): the only way to keep data past
 * its deadline is an approved `retention-extension` approval case whose `validUntil` has not
 * passed. Its `body.retentionHolds` names the incidents (kept with their alerts) and the retention
 * days (record and evidence partitions) kept. Nothing else can hold data.
 */
import type { CaseRecord, Store } from '../../store/types.ts';
import { RetentionHoldError } from './errors.ts';

/** One approved, unexpired retention extension as the job applies it. */
export interface RetentionHold {
  caseId: string;
  /** Epoch ms; the hold ends (and the data goes at the next run) when this passes. */
  validUntil: number;
  incidentIds: string[];
  days: string[];
}

/** Incidents one extension may hold (the cases module's own limit). */
export const MAX_HOLD_INCIDENTS = 10_000;
/** Days one extension may hold (ten years of days). */
export const MAX_HOLD_DAYS = 3660;
/** Longest incident id accepted. */
export const MAX_HOLD_ID = 256;
/**
 * Approved extension cases read per run. Beyond it the run is refused rather than apply only some
 * holds (which could delete what a later case holds).
 */
export const MAX_EXTENSION_CASES = 100_000;

const DAY_RE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The hold of one case record (pure; never throws): `undefined` when the record is not an approved
 * retention extension in force at `now`; `{ error }` when it is one but its holds cannot be read.
 */
export function holdOfCase(c: CaseRecord, now: number): RetentionHold | { error: string } | undefined {
  if (c.kind !== 'approval-case' || c.state !== 'approved') return undefined;
  const b: unknown = c.body;
  if (!isRecord(b) || b.kind !== 'retention-extension') return undefined;
  if (typeof b.validUntil !== 'number' || !Number.isFinite(b.validUntil))
    return { error: 'validUntil is not a time' };
  if (b.validUntil <= now) return undefined;
  const h = b.retentionHolds;
  if (!isRecord(h)) return { error: 'no retentionHolds' };
  const { incidentIds, days } = h;
  if (!Array.isArray(incidentIds) || incidentIds.length > MAX_HOLD_INCIDENTS)
    return { error: `retentionHolds.incidentIds is not a list of at most ${MAX_HOLD_INCIDENTS}` };
  if (!Array.isArray(days) || days.length > MAX_HOLD_DAYS)
    return { error: `retentionHolds.days is not a list of at most ${MAX_HOLD_DAYS}` };
  for (const id of incidentIds as unknown[])
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_HOLD_ID)
      return { error: 'retentionHolds.incidentIds holds a bad id' };
  for (const d of days as unknown[])
    if (typeof d !== 'string' || !DAY_RE.test(d) || !Number.isFinite(Date.parse(`${d}T00:00:00Z`)))
      return { error: 'retentionHolds.days holds a bad day (YYYY-MM-DD)' };
  return {
    caseId: c.id,
    validUntil: b.validUntil,
    incidentIds: [...new Set(incidentIds as string[])],
    days: [...new Set(days as string[])],
  };
}

/**
 * Every hold in force at `now`, sorted by case id. Throws `RetentionHoldError` when an approved
 * extension in force cannot be read, or when there are more than `MAX_EXTENSION_CASES`: the run
 * must then delete nothing.
 */
export async function collectHolds(store: Store, now: number): Promise<RetentionHold[]> {
  const holds: RetentionHold[] = [];
  let cursor: string | undefined;
  let seen = 0;
  for (;;) {
    const page = await store.listCases({
      kind: 'approval-case',
      state: 'approved',
      limit: 1000,
      ...(cursor !== undefined ? { cursor } : {}),
    });
    for (const c of page.items) {
      const h = holdOfCase(c, now);
      if (h === undefined) continue;
      if ('error' in h) throw new RetentionHoldError(c.id, h.error);
      holds.push(h);
    }
    seen += page.items.length;
    if (seen > MAX_EXTENSION_CASES)
      throw new RetentionHoldError('*', `more than ${MAX_EXTENSION_CASES} approved cases to read`);
    if (page.next === null) break;
    cursor = page.next;
  }
  return holds.sort((a, b) => (a.caseId < b.caseId ? -1 : a.caseId > b.caseId ? 1 : 0));
}
