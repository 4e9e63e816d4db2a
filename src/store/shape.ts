/**
 * Pure helpers every store implementation shares: what a record's event time, addresses and
 * scaled counters are, retention days, cursors and query checks. Keeping them in one place keeps
 * the implementations answering the same way (the contract suite holds them to it).
 */
import type { Severity } from '../common/schema/evidence.ts';
import { SEVERITIES } from '../common/schema/evidence.ts';
import type { SelectedRecord } from '../common/schema/selected.ts';
import { StoreError } from './errors.ts';
import { MAX_LIMIT, type RetentionTable, type RollupStep } from './types.ts';

const DAY_MS = 86_400_000;

/** Milliseconds of each rollup step. */
export const STEP_MS: Record<RollupStep, number> = { '1m': 60_000, '1h': 3_600_000 };

function num(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : 0;
  // counters beyond 2^53 arrive as decimal strings (DESIGN section 7): estimates are fine here
  if (typeof v === 'string' && /^[0-9]{1,20}$/.test(v)) return Number(v);
  return 0;
}

function time(f: SelectedRecord['fields'], ms: string, s: string, us: string): number {
  const a = f[ms];
  if (typeof a === 'number' && Number.isFinite(a) && a > 0) return a;
  const b = f[s];
  if (typeof b === 'number' && Number.isFinite(b) && b > 0) return b * 1000;
  const c = f[us];
  if (typeof c === 'number' && Number.isFinite(c) && c > 0) return c / 1000;
  return 0;
}

/**
 * Event time of a record (epoch ms, integer): the flow end, else its start (as detection does);
 * DNS `eventTime`, else response, else query time; `provenance.selectedAt` when none is present.
 */
export function recordTime(r: SelectedRecord): number {
  const f = r.fields;
  let t: number;
  if (r.recordType === 'dns') {
    t = num(f.eventTime) || num(f.dnsResponseTime) || num(f.dnsQueryTime);
  } else {
    t =
      time(f, 'flowEndMilliseconds', 'flowEndSeconds', 'flowEndMicroseconds') ||
      time(f, 'flowStartMilliseconds', 'flowStartSeconds', 'flowStartMicroseconds');
  }
  return Math.floor(t > 0 ? t : r.provenance.selectedAt);
}

/** The values a store indexes a record by (columns in DuckDB, filters in memory). */
export interface RecordKeys {
  t: number;
  srcAddr: string | null;
  dstAddr: string | null;
  srcPort: number | null;
  dstPort: number | null;
  proto: number | null;
  qname: string | null;
  /** Sampling-scaled estimates (flows; 0 for DNS). */
  packets: number;
  bytes: number;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
function int(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) ? v : null;
}

/** Extracts the indexed values of a record. */
export function recordKeys(r: SelectedRecord): RecordKeys {
  const f = r.fields;
  const s = r.recordType === 'flow' ? num(f.samplingInterval) || 1 : 0;
  return {
    t: recordTime(r),
    srcAddr: str(f.sourceIPv4Address) ?? str(f.sourceIPv6Address),
    dstAddr: str(f.destinationIPv4Address) ?? str(f.destinationIPv6Address),
    srcPort: int(f.sourceTransportPort),
    dstPort: int(f.destinationTransportPort),
    proto: int(f.protocolIdentifier),
    qname: str(f.dnsQueryName),
    packets: num(f.packetDeltaCount ?? f.packetTotalCount) * s,
    bytes: num(f.octetDeltaCount ?? f.octetTotalCount) * s,
  };
}

/** Retention day (UTC `YYYY-MM-DD`) of a deadline. */
export function retentionDay(retainUntil: number): string {
  if (!Number.isFinite(retainUntil))
    throw new StoreError('ERR_STORE_BAD_VALUE', `retainUntil ${retainUntil} is not a time`);
  const d = Math.floor(retainUntil / DAY_MS);
  // a batch's records mostly share a day: skip the Date formatting then
  if (d !== lastDay) {
    lastDay = d;
    lastDayText = new Date(d * DAY_MS).toISOString().slice(0, 10);
  }
  return lastDayText;
}
let lastDay = Number.NaN;
let lastDayText = '';

/** True when the whole retention day has ended at `now` (its rows must be gone). */
export function dayExpired(day: string, now: number): boolean {
  return Date.parse(`${day}T00:00:00.000Z`) + DAY_MS <= now;
}

/** `YYYYMMDD` of a retention day: the suffix of its tables. */
export function daySuffix(day: string): string {
  return day.replace(/-/g, '');
}

/** Does `qname` equal `suffix` or end with `.suffix` (case-insensitive, trailing dot ignored)? */
export function qnameMatches(qname: string | null, suffix: string): boolean {
  if (qname === null) return false;
  const q = qname.toLowerCase().replace(/\.$/, '');
  const s = suffix.toLowerCase().replace(/\.$/, '').replace(/^\./, '');
  return q === s || q.endsWith('.' + s);
}

/** Severity as a number for comparisons (`low` = 0). */
export function severityRank(s: Severity): number {
  const i = SEVERITIES.indexOf(s);
  return i < 0 ? 0 : i;
}

/** Clamps a page size to [1, MAX_LIMIT]; a non-number is a bad query. */
export function clampLimit(limit: number): number {
  if (typeof limit !== 'number' || Number.isNaN(limit))
    throw new StoreError('ERR_STORE_BAD_QUERY', `limit ${String(limit)} is not a number`);
  return Math.max(1, Math.min(MAX_LIMIT, Math.floor(limit)));
}

/** Checks a mandatory time range `[from, to)`. */
export function checkRange(from: number, to: number): void {
  if (typeof from !== 'number' || typeof to !== 'number' || !Number.isFinite(from) || !Number.isFinite(to))
    throw new StoreError('ERR_STORE_BAD_QUERY', 'a finite time range (from, to) is required');
  if (from > to) throw new StoreError('ERR_STORE_BAD_QUERY', `from ${from} is after to ${to}`);
}

/**
 * The distinct ids of a `getRecords` call, in the order given; more than `MAX_LIMIT` distinct ids,
 * or an id that is not a string, is a bad query.
 */
export function uniqueIds(ids: readonly string[]): Set<string> {
  if (!Array.isArray(ids)) throw new StoreError('ERR_STORE_BAD_QUERY', 'ids must be a list');
  const out = new Set<string>();
  for (const id of ids) {
    if (typeof id !== 'string') throw new StoreError('ERR_STORE_BAD_QUERY', 'an id is not a string');
    out.add(id);
    if (out.size > MAX_LIMIT)
      throw new StoreError('ERR_STORE_BAD_QUERY', `more than ${MAX_LIMIT} record ids in one look-up`);
  }
  return out;
}

/** Position after which the next page starts: a sort time (or number) and a tie-breaking id. */
export interface CursorPos {
  t: number;
  id: string;
}

/** Opaque cursor for listing `kind` (base64url JSON), so a cursor of one listing fails on another. */
export function encodeCursor(kind: string, pos: CursorPos): string {
  return Buffer.from(JSON.stringify([kind, pos.t, pos.id]), 'utf8').toString('base64url');
}

/** The longest cursor accepted (cursors come from URLs). */
export const MAX_CURSOR_LENGTH = 2048;

/**
 * Decodes a cursor of listing `kind`; anything else (garbage, another listing's cursor, too
 * long) is a `StoreError` `ERR_STORE_BAD_CURSOR`.
 */
export function decodeCursor(kind: string, cursor: string | undefined): CursorPos | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const bad = (why: string): StoreError => new StoreError('ERR_STORE_BAD_CURSOR', `bad cursor: ${why}`);
  if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor))
    throw bad('not a cursor');
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad('not a cursor');
  }
  if (
    !Array.isArray(v) ||
    v.length !== 3 ||
    v[0] !== kind ||
    typeof v[1] !== 'number' ||
    !Number.isFinite(v[1]) ||
    typeof v[2] !== 'string'
  )
    throw bad(`not a ${kind} cursor`);
  return { t: v[1], id: v[2] };
}

/** Newest-first order: is (t, id) strictly after the cursor position in that order? */
export function afterCursor(t: number, id: string, c: CursorPos | undefined): boolean {
  if (!c) return true;
  return t < c.t || (t === c.t && id < c.id);
}

/** Newest-first comparator on (t, id). */
export function newestFirst(a: CursorPos, b: CursorPos): number {
  if (a.t !== b.t) return b.t - a.t;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

const RETENTION_DAY = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

/** Retention arguments after checking: sets for the lookups every implementation makes. */
export interface CheckedRetention {
  now: number;
  derivedBefore: number | undefined;
  heldDays: ReadonlySet<string>;
  heldIncidents: ReadonlySet<string>;
}

/** Checks the arguments of `Store.enforceRetention`; bad ones are `ERR_STORE_BAD_QUERY`. */
export function checkRetention(
  now: number,
  o: { derivedBefore?: number; heldDays?: readonly string[]; heldIncidents?: readonly string[] } = {},
): CheckedRetention {
  const bad = (why: string): StoreError => new StoreError('ERR_STORE_BAD_QUERY', why);
  if (typeof now !== 'number' || !Number.isFinite(now)) throw bad('now must be a time');
  if (
    o.derivedBefore !== undefined &&
    (typeof o.derivedBefore !== 'number' || !Number.isFinite(o.derivedBefore))
  )
    throw bad('derivedBefore must be a time');
  for (const d of o.heldDays ?? [])
    if (typeof d !== 'string' || !RETENTION_DAY.test(d)) throw bad(`held day ${String(d)} is not YYYY-MM-DD`);
  for (const id of o.heldIncidents ?? [])
    if (typeof id !== 'string' || id.length === 0) throw bad('held incident ids must be non-empty strings');
  return {
    now,
    derivedBefore: o.derivedBefore,
    heldDays: new Set(o.heldDays ?? []),
    heldIncidents: new Set(o.heldIncidents ?? []),
  };
}

/** Per-table counts of a retention run, all zero. */
export function zeroRetentionCounts(): Record<RetentionTable, number> {
  return { records: 0, evidence: 0, alerts: 0, incidents: 0, rollup_1m: 0, rollup_1h: 0 };
}
