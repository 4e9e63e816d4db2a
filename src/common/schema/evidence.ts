import type { DetectorName } from './legal.ts';

/** Severity of a finding (DESIGN section 6): low = worth a look, medium+ = clearly malicious. */
export type Severity = 'low' | 'medium' | 'high' | 'critical';

/** Severities in increasing order, for comparisons and validation. */
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/**
 * One detector's finding (DESIGN section 2, `Evidence`): what the detector saw about one subject
 * in one event-time window. Correlation turns evidence into alerts and incidents; the evidence
 * itself is never rewritten, so it carries everything needed to explain the alert later.
 */
export interface Evidence {
  /** Detector name of DESIGN section 6. */
  detector: DetectorName;
  /** Detector version (semver); bumped whenever its algorithm or defaults change. */
  version: string;
  /**
   * The subject of DESIGN section 6 as an address string in canonical form (the scanner, the
   * DDoS victim, the brute-forcing source …); `addr/64` when the detector groups IPv6 by /64.
   * Pseudonymised addresses appear as the pseudonyms they are.
   */
  subject: string;
  /** The other side when there is one (the brute-forced host, the C2 server …). */
  counterpart?: string;
  /** Event-time window the finding covers, epoch ms, `start` inclusive, `end` exclusive. */
  window: { start: number; end: number };
  /** How sure the detector is, 0..1. */
  confidence: number;
  severity: Severity;
  /** Numbers and strings that explain the finding (counts, rates, types); detector-specific. */
  facts: Record<string, number | string>;
  /** A bounded sample of the records that made the finding (`recordId`s or decoder record ids). */
  recordIds: string[];
}
