import type { Evidence, Severity } from './evidence.ts';
import type { DetectorName } from './legal.ts';

/**
 * Alerts and incidents (DESIGN section 2: `Alert` → `Incident`). Correlation (`src/correlate/`)
 * makes them from `Evidence`; the store keeps them; the API, the dashboard and `acd analyze`
 * show them. Times are epoch milliseconds here; text forms (NDJSON, API) write ISO 8601 UTC.
 */

/** Lifecycle of an incident (DESIGN section 2). */
export type IncidentState = 'new' | 'triaged' | 'notified' | 'mitigated' | 'closed';

/** Every incident state, in lifecycle order. */
export const INCIDENT_STATES: readonly IncidentState[] = [
  'new',
  'triaged',
  'notified',
  'mitigated',
  'closed',
];

/**
 * One detector's finding about one subject, deduplicated per (detector, subject, window): every
 * evidence that repeats the same finding is folded into the same alert, which keeps the chain.
 */
export interface Alert {
  /** Stable id: the same evidence stream gives the same ids (replays, restarts). */
  id: string;
  detector: DetectorName;
  /** The subject of DESIGN section 6 (address string, pseudonym or `prefix/64`). */
  subject: string;
  /** Other sides seen in the evidence (victims, C2 servers, targets), bounded, deduplicated. */
  counterparts: string[];
  severity: Severity;
  /** 0..1 after correlation scoring (confidence, repetition, operator impact, down-ranking). */
  score: number;
  /** Event time of the earliest and latest evidence window (epoch ms). */
  firstSeen: number;
  lastSeen: number;
  /** One sentence for people. */
  summary: string;
  /** Critical-infrastructure operator ids whose ranges the subject or a counterpart is in. */
  operators: string[];
  /** Sectors of those operators. */
  sectors: string[];
  /** The evidence that made the alert, oldest first (bounded: the first and the latest kept). */
  evidence: Evidence[];
  /** Number of evidence items folded in (may exceed `evidence.length`). */
  evidenceCount: number;
  /** Set when a suppression rule matched: the alert is kept (and exported) but down-ranked. */
  suppressedBy?: string;
  /** The incident the alert belongs to. */
  incidentId?: string;
}

/** One change of an incident's state, who made it and why. */
export interface IncidentTransition {
  at: number;
  from: IncidentState;
  to: IncidentState;
  actor: string;
  reason: string;
}

/**
 * Alerts grouped by shared infrastructure (subjects and counterparts), victims, sector and time;
 * a campaign when several detectors or sectors are involved.
 */
export interface Incident {
  id: string;
  state: IncidentState;
  severity: Severity;
  /** 0..1. */
  score: number;
  detectors: DetectorName[];
  /** Subjects of its alerts. */
  subjects: string[];
  /** Counterparts of its alerts (victims, servers). */
  counterparts: string[];
  operators: string[];
  sectors: string[];
  /** Ids of its alerts, oldest first. */
  alerts: string[];
  firstSeen: number;
  lastSeen: number;
  summary: string;
  /** True when alerts of several stages (detectors) or several victims form one campaign. */
  campaign: boolean;
  /** Last change (epoch ms, processing time). */
  updatedAt: number;
  history: IncidentTransition[];
  /**
   * Ids of incidents merged into this one when later alerts showed shared infrastructure (those
   * ids no longer exist; consumers that stored them point them here).
   */
  mergedFrom?: string[];
}

/** A rule that down-ranks alerts (known scanners, warninglists, analysts' false positives). */
export interface SuppressionRule {
  id: string;
  /** Detector it applies to, or every detector when absent. */
  detector?: DetectorName;
  /** Exact subject, or a CIDR prefix, or absent for every subject. */
  subject?: string;
  /** Exact counterpart or CIDR prefix. */
  counterpart?: string;
  reason: string;
  createdBy: string;
  createdAt: number;
  /** Epoch ms after which the rule no longer applies; absent = until removed. */
  expiresAt?: number;
}
