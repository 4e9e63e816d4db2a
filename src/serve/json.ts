/**
 * The API's JSON forms of the shared types: the same fields with every instant as ISO 8601 UTC
 * with milliseconds (DESIGN section 7). Pure functions.
 */
import { isoTime } from '../common/clock.ts';
import type { Alert, Incident, SuppressionRule } from '../common/schema/alert.ts';
import type { FieldValue, Fields } from '../common/schema/record.ts';
import type { SelectedRecord } from '../common/schema/selected.ts';
import type { AlertJson, IncidentItemJson, IncidentJson, RuleJson, SelectedRecordJson } from './schemas.ts';

/** Largest |epoch ms| a JavaScript Date represents. */
const MAX_DATE_MS = 8.64e15;

function iso(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? isoTime(ms) : isoTime(0);
}

/** ISO text of an optional instant. */
export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : iso(ms);
}

/** An alert as the API returns it. */
export function alertJson(a: Alert): AlertJson {
  return {
    ...a,
    firstSeen: iso(a.firstSeen),
    lastSeen: iso(a.lastSeen),
    evidence: a.evidence.map((e) => ({
      ...e,
      window: { start: iso(e.window.start), end: iso(e.window.end) },
    })),
  };
}

/** An incident in full (detail view). */
export function incidentJson(i: Incident): IncidentJson {
  return {
    ...i,
    firstSeen: iso(i.firstSeen),
    lastSeen: iso(i.lastSeen),
    updatedAt: iso(i.updatedAt),
    history: i.history.map((h) => ({ ...h, at: iso(h.at) })),
  };
}

/** An incident in a list (and in `incident` live events). */
export function incidentItemJson(i: Incident): IncidentItemJson {
  return {
    id: i.id,
    state: i.state,
    severity: i.severity,
    score: i.score,
    detectors: i.detectors,
    subjects: i.subjects,
    operators: i.operators,
    sectors: i.sectors,
    firstSeen: iso(i.firstSeen),
    lastSeen: iso(i.lastSeen),
    summary: i.summary,
    campaign: i.campaign,
  };
}

/** A suppression rule. */
export function ruleJson(r: SuppressionRule): RuleJson {
  const { expiresAt, ...rest } = r;
  return {
    ...rest,
    createdAt: iso(r.createdAt),
    ...(expiresAt !== undefined ? { expiresAt: iso(expiresAt) } : {}),
  };
}

/**
 * Allow-listed fields that are instants (epoch ms after decoding). Same list as the edge's NDJSON
 * output (src/cli/edge/output.ts), which the API must not import (cli wires, serve is wired).
 */
const TIME_FIELDS: ReadonlySet<string> = new Set([
  'flowStartMilliseconds',
  'flowEndMilliseconds',
  'flowStartSeconds',
  'flowEndSeconds',
  'flowStartMicroseconds',
  'flowEndMicroseconds',
  'flowStartNanoseconds',
  'flowEndNanoseconds',
  'eventTime',
  'dnsQueryTime',
  'dnsResponseTime',
]);

function isoField(v: FieldValue): FieldValue {
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_DATE_MS ? isoTime(v) : v;
}

/** A selected record (same shape as the edge's NDJSON output). */
export function selectedRecordJson(r: SelectedRecord): SelectedRecordJson {
  const fields: Fields = {};
  for (const [k, v] of Object.entries(r.fields)) fields[k] = TIME_FIELDS.has(k) ? isoField(v) : v;
  return {
    recordId: r.recordId,
    recordType: r.recordType,
    protocol: r.protocol,
    fields,
    source: r.source,
    destination: r.destination,
    provenance: {
      ...r.provenance,
      selectedAt: iso(r.provenance.selectedAt),
      retainUntil: iso(r.provenance.retainUntil),
    },
  };
}
