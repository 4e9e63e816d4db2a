/**
 * Checks of evidence before correlation. Evidence normally comes from this process's detectors,
 * but at a centre it arrives over the bus, so it is treated as untrusted: malformed evidence is
 * refused (counted by reason) instead of corrupting alerts. Stored evidence is bounded too.
 */
import type { Evidence } from '../common/schema/evidence.ts';
import { SEVERITIES } from '../common/schema/evidence.ts';
import type { DetectorName } from '../common/schema/legal.ts';

/** Every detector name (DESIGN section 6). */
export const DETECTOR_NAMES: readonly DetectorName[] = [
  'scan',
  'beacon',
  'ddos',
  'brute-force',
  'dga',
  'dns-tunnel',
  'exfiltration',
  'long-connection',
  'indicator',
];

/** Longest subject or counterpart (an IPv6 `/64` group is 24 characters; pseudonyms are addresses). */
export const MAX_ADDRESS_TEXT = 256;
/** Most facts per evidence (detectors emit about a dozen). */
export const MAX_FACTS = 64;
/** Longest fact name or string value. */
export const MAX_FACT_TEXT = 1024;
/** Most record ids per evidence (detectors keep a small sample). */
export const MAX_RECORD_IDS = 1000;
/** Latest event time accepted (the ECMAScript date limit), so times always format as ISO 8601. */
export const MAX_TIME = 8.64e15;

/** Why evidence is refused, or `undefined` when it is usable. */
export function evidenceProblem(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return 'not-object';
  const v = e as Record<string, unknown>;
  if (typeof v.detector !== 'string' || !(DETECTOR_NAMES as readonly string[]).includes(v.detector))
    return 'detector';
  if (typeof v.subject !== 'string' || v.subject.length === 0 || v.subject.length > MAX_ADDRESS_TEXT)
    return 'subject';
  if (
    v.counterpart !== undefined &&
    (typeof v.counterpart !== 'string' ||
      v.counterpart.length === 0 ||
      v.counterpart.length > MAX_ADDRESS_TEXT)
  )
    return 'counterpart';
  const w = v.window as Record<string, unknown> | null | undefined;
  if (typeof w !== 'object' || w === null) return 'window';
  const { start, end } = w;
  if (typeof start !== 'number' || typeof end !== 'number') return 'window';
  if (!Number.isFinite(start) || !Number.isFinite(end) || start < 0 || end > MAX_TIME || start > end)
    return 'window';
  if (typeof v.confidence !== 'number' || !(v.confidence >= 0 && v.confidence <= 1)) return 'confidence';
  if (typeof v.severity !== 'string' || !(SEVERITIES as readonly string[]).includes(v.severity))
    return 'severity';
  if (typeof v.version !== 'string' || v.version.length > 64) return 'version';
  const f = v.facts;
  if (typeof f !== 'object' || f === null || Array.isArray(f)) return 'facts';
  const entries = Object.entries(f);
  if (entries.length > MAX_FACTS) return 'facts';
  for (const [k, x] of entries) {
    if (k.length > MAX_FACT_TEXT) return 'facts';
    if (typeof x === 'string' ? x.length > MAX_FACT_TEXT : typeof x !== 'number') return 'facts';
  }
  const r = v.recordIds;
  if (!Array.isArray(r) || r.length > MAX_RECORD_IDS) return 'record-ids';
  for (const id of r) if (typeof id !== 'string' || id.length > MAX_FACT_TEXT) return 'record-ids';
  return undefined;
}

/** A private copy of usable evidence (only the known fields, so nothing else is retained). */
export function copyEvidence(e: Evidence): Evidence {
  const out: Evidence = {
    detector: e.detector,
    version: e.version,
    subject: e.subject,
    window: { start: e.window.start, end: e.window.end },
    confidence: e.confidence,
    severity: e.severity,
    facts: { ...e.facts },
    recordIds: [...e.recordIds],
  };
  if (e.counterpart !== undefined) out.counterpart = e.counterpart;
  return out;
}
